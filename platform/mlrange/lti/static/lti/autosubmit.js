// Sends the deep-linking response back to the LMS without a click (the button stays as a fallback).
document.getElementById("lti-deep-link-return").submit();
