// Progressive enhancement of the lab editor: syntax highlighting and keyboard shortcuts.
// Without JavaScript the plain textarea and buttons work the same.
(function () {
  "use strict";
  var textarea = document.getElementById("code");
  var form = document.getElementById("editor-form");
  if (!textarea || !form || typeof CodeMirror === "undefined") return;
  function submitWith(mode) {
    var button = document.getElementById(mode === "grade" ? "grade-button" : "run-button");
    if (button) { editor.save(); form.requestSubmit(button); }
  }
  var editor = CodeMirror.fromTextArea(textarea, {
    mode: "python",
    lineNumbers: true,
    indentUnit: 4,
    matchBrackets: true,
    autoCloseBrackets: true,
    viewportMargin: Infinity,
    extraKeys: {
      "Ctrl-Enter": function () { submitWith("run"); },
      "Cmd-Enter": function () { submitWith("run"); },
      "Shift-Ctrl-Enter": function () { submitWith("grade"); },
      "Shift-Cmd-Enter": function () { submitWith("grade"); },
      Tab: function (cm) { cm.execCommand(cm.somethingSelected() ? "indentMore" : "insertSoftTab"); },
      "Shift-Tab": "indentLess",
      Esc: function (cm) { cm.getInputField().blur(); }
    }
  });
  editor.getWrapperElement().setAttribute("aria-label", "Python code editor");
  editor.getInputField().setAttribute("aria-label", "Your code");
  form.addEventListener("submit", function () {
    editor.save();
    Array.prototype.forEach.call(form.querySelectorAll("button[type=submit]"), function (b) {
      b.setAttribute("aria-disabled", "true");
    });
  });
})();
