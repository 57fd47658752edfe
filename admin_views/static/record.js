// Record page: open the tab named in the address (#products) and keep the address in step.
(function () {
  "use strict";
  function show(key) {
    var link = document.getElementById("tab-" + key);
    if (link && window.jQuery) { window.jQuery(link).tab("show"); }
  }
  if (window.location.hash) { show(window.location.hash.replace("#", "")); }
  if (window.jQuery) {
    window.jQuery('#pt-record-tabs a[data-toggle="tab"]').on("shown.bs.tab", function (event) {
      var key = event.target.id.replace("tab-", "");
      history.replaceState(null, "", "#" + key);
    });
  }
})();
