"""Single sign-on through an organisation's OpenID Connect provider; off unless configured."""
