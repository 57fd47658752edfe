// Flask-Admin wires a few controls with inline handlers (onclick="...") and javascript: links,
// which the staff panel's Content-Security-Policy refuses. Our templates mark them with data
// attributes instead, and this file binds them. It also keeps a workflow's action forms short:
// each shows only the fields its kind of action uses.
(function () {
  "use strict";

  // Which action kinds use a field of a workflow action form.
  var USED_BY = {
    target: ["send_email", "send_sms", "create_task", "create_call"],
    template_key: ["send_email", "send_sms"],
    tag: ["add_tag", "remove_tag"],
    task_title: ["create_task", "create_call"],
    sign_template: ["send_sign_request"]
  };

  function group(id) {
    var field = document.getElementById(id);
    return field ? field.closest(".form-group") : null;
  }

  function showActionFields(kindSelect) {
    var prefix = kindSelect.id.slice(0, -"kind".length);
    var kind = kindSelect.value;
    Object.keys(USED_BY).forEach(function (name) {
      var box = group(prefix + name);
      if (box) { box.hidden = kind !== "" && USED_BY[name].indexOf(kind) === -1; }
    });
    var target = document.getElementById(prefix + "target");
    var staff = group(prefix + "staff_user");
    if (staff) {
      staff.hidden = !target || target.value !== "staff" || group(prefix + "target").hidden;
    }
  }

  function showAllActionFields() {
    document.querySelectorAll(".inline-field select[id$='-kind']").forEach(showActionFields);
  }

  document.addEventListener("click", function (event) {
    // "Add <inline form>" (a workflow's actions, for example).
    var add = event.target.closest("[data-pt-inline-add]");
    if (add && window.faForm) {
      event.preventDefault();
      window.faForm.addInlineField(add, add.getAttribute("data-pt-inline-add"));
      showAllActionFields();
      return;
    }
    // Buttons that ask first (deletes, stopping a run, starting a workflow).
    var ask = event.target.closest("[data-pt-confirm]");
    if (ask && !window.confirm(ask.getAttribute("data-pt-confirm"))) {
      event.preventDefault();
      return;
    }
    // Links that only open a menu or run a script: never follow them.
    if (event.target.closest("a[data-pt-void]")) {
      event.preventDefault();
    }
  });

  // Date pickers: the picker re-reads the field on every key and writes back what it made of
  // it, so typing "2" turned the field into "0002-01-01 00:00" and the rest of the typing was
  // appended to that. Let a key reach the picker only once the field holds a whole date in
  // the field's format; until then the person's typing stays as typed.
  var PICKERS = ["datepicker", "datetimepicker", "timepicker"];
  document.addEventListener("keyup", function (event) {
    var field = event.target;
    if (!field.matches || !field.matches("input[data-role]")) { return; }
    if (PICKERS.indexOf(field.getAttribute("data-role")) === -1) { return; }
    var format = field.getAttribute("data-date-format");
    var whole = window.moment && window.moment(field.value, format, true).isValid();
    if (!whole) { event.stopPropagation(); }
  }, true);

  function onReady() {
    document.querySelectorAll("a[href^='javascript:']").forEach(function (link) {
      link.setAttribute("href", "#");
      link.setAttribute("data-pt-void", "");
    });
    showAllActionFields();
    // An empty date-time field's picker opens at the office's time now, not the browser's:
    // what is typed or picked is read on the office's clock.
    if (window.jQuery && window.moment) {
      window.jQuery(document).on("show.daterangepicker", "input[data-office-now]", function () {
        var picker = window.jQuery(this).data("daterangepicker");
        if (this.value !== "" || !picker) { return; }
        var now = window.moment(this.getAttribute("data-office-now"), "YYYY-MM-DD HH:mm");
        picker.setCustomDates(now, now);
      });
    }
    // Select2 reports changes through jQuery only.
    if (window.jQuery) {
      window.jQuery(document).on("change", ".inline-field select", function () {
        var prefix = this.id.replace(/(kind|target)$/, "");
        var kind = document.getElementById(prefix + "kind");
        if (kind && kind !== this && !/target$/.test(this.id)) { return; }
        if (kind) { showActionFields(kind); }
      });
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", onReady);
  } else {
    onReady();
  }
})();
