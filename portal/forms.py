"""Portal forms (Flask-WTF: CSRF on every one)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, RadioField, StringField
from wtforms.validators import DataRequired, Length


class LinkSignInForm(FlaskForm):
    password = PasswordField("Password", validators=[DataRequired(), Length(max=200)])


class PasswordSignInForm(FlaskForm):
    email = StringField("Email address", validators=[DataRequired(), Length(max=255)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=200)])


class CodeRequestForm(FlaskForm):
    identifier = StringField("Email address", validators=[DataRequired(), Length(max=255)])


class CodeVerifyForm(FlaskForm):
    code = StringField("6-digit code", validators=[DataRequired(), Length(max=20)])


class ChooseAccountForm(FlaskForm):
    account = RadioField("Whose portal?", coerce=int, validators=[DataRequired()])


class NewPasswordForm(FlaskForm):
    password = PasswordField("New password", validators=[DataRequired(), Length(max=200)])
    confirm = PasswordField("New password again", validators=[DataRequired(), Length(max=200)])


class ResetRequestForm(FlaskForm):
    email = StringField("Email address", validators=[DataRequired(), Length(max=255)])


class SignOutForm(FlaskForm):
    next = HiddenField()
