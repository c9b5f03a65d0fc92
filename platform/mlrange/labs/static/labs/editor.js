// The lab page as a workspace: the editor keeps a draft as the learner types, runs and
// submissions show their result under the editor (live, through the status part's long poll),
// earlier submissions open and restore in place. Also announces status changes to screen
// readers on the submission page. Without JavaScript the plain forms do the same with page loads.
(function () {
  "use strict";

  // ---- Live status, announced (lab page and submission page) --------------------------------
  var announcer = document.getElementById("run-announce");
  var lastAnnounced = "";
  function announce(text) {
    if (!announcer || !text || text === lastAnnounced) return;
    lastAnnounced = text;
    announcer.textContent = text;
  }
  function announceStatus() {
    var line = document.querySelector("#submission-status .status-line");
    if (line) announce(line.textContent.replace(/\s+/g, " ").trim());
  }
  document.body.addEventListener("htmx:afterSwap", announceStatus);

  // ---- The editor ----------------------------------------------------------------------------
  var textarea = document.getElementById("code");
  var form = document.getElementById("editor-form");
  if (!textarea || !form || typeof CodeMirror === "undefined") return;

  var csrfInput = form.querySelector("input[name=csrfmiddlewaretoken]");
  var csrf = csrfInput ? csrfInput.value : "";
  var draftUrl = form.getAttribute("data-draft-url");
  var submitUrl = form.getAttribute("data-submit-url");
  var historyUrl = form.getAttribute("data-history-url");
  var errors = document.getElementById("form-errors");
  var draftState = document.getElementById("draft-state");
  var runResult = document.getElementById("run-result");
  var result = document.getElementById("result");
  var starterScript = document.getElementById("starter-code");
  var starter = starterScript ? JSON.parse(starterScript.textContent) : null;

  function submitWith(mode) {
    var button = document.getElementById(mode === "grade" ? "grade-button" : "run-button");
    if (button) form.requestSubmit(button);
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
      // Tab indents, so Esc is the way out: focus moves to the Run button, next in the form.
      Esc: function () { document.getElementById("run-button").focus(); }
    }
  });
  // The code view scrolls inside a fixed height: keyboard users can focus it to scroll it.
  var scroller = editor.getScrollerElement();
  scroller.setAttribute("tabindex", "0");
  scroller.setAttribute("role", "group");
  scroller.setAttribute("aria-label", "Code view (scroll with the arrow keys)");
  var input = editor.getInputField();
  input.setAttribute("aria-label", "Your code (Python)");
  input.setAttribute("aria-describedby", "editor-keys");
  input.setAttribute("aria-multiline", "true");

  function showError(message) {
    errors.textContent = message;
    errors.hidden = !message;
  }
  function problemText(response) {
    return response.json().then(function (body) {
      if (body && typeof body.detail === "string") return body.detail;
      var parts = [];
      Object.keys(body || {}).forEach(function (key) {
        var value = body[key];
        parts.push((key === "non_field_errors" ? "" : key + ": ") + (Array.isArray(value) ? value.join(" ") : value));
      });
      return parts.join(" ") || "The server refused this (HTTP " + response.status + ").";
    }, function () {
      return "The server answered HTTP " + response.status + "; try again in a moment.";
    });
  }
  function send(url, options) {
    options.credentials = "same-origin";
    options.headers = Object.assign({ "X-CSRFToken": csrf, Accept: "application/json" }, options.headers || {});
    return fetch(url, options);
  }

  // ---- Draft: saved as the learner types, one request at a time -----------------------------
  var saveTimer = null;
  var dirty = false;
  var quiet = false;  // a programmatic change that is not the learner's typing
  var saving = Promise.resolve();
  function setDraftState(text) { draftState.textContent = text; }
  function clock() { return new Date().toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" }); }
  function saveDraft(keepalive) {
    clearTimeout(saveTimer);
    if (!dirty) return saving;
    dirty = false;
    var code = editor.getValue();
    saving = saving.then(function () {
      return send(draftUrl, {
        method: "PUT",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ code: code }),
        keepalive: !!keepalive && code.length < 60000
      }).then(function (response) {
        if (response.ok) { setDraftState("Draft saved " + clock()); return; }
        return problemText(response).then(function (message) { setDraftState("Not saved: " + message); });
      }, function () {
        dirty = true;
        setDraftState("Not saved (no connection); retrying when you type");
      });
    });
    return saving;
  }
  editor.on("change", function () {
    if (quiet) return;
    dirty = true;
    setDraftState("Saving…");
    clearTimeout(saveTimer);
    saveTimer = setTimeout(saveDraft, 700);
  });
  window.addEventListener("pagehide", function () { saveDraft(true); });
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") saveDraft(true);
  });
  function replaceCode(code, message) {
    // setValue is one undoable change: Ctrl+Z brings the previous code back.
    editor.setValue(code);
    editor.focus();
    announce(message);
  }
  function resetToStarter() {
    if (starter === null) return;
    clearTimeout(saveTimer);
    dirty = false;
    quiet = true;
    try { replaceCode(starter, "The editor holds the starter code again; Ctrl+Z brings your code back."); }
    finally { quiet = false; }
    saving = saving.then(function () {
      return send(draftUrl, { method: "DELETE" }).then(function (response) {
        setDraftState(response.ok ? "Starter code" : "Not reset on the server; try again");
      }, function () { setDraftState("Not reset on the server (no connection)"); });
    });
  }

  // ---- Results under the editor ---------------------------------------------------------------
  function statusUrlFor(id) {
    return form.getAttribute("data-status-url").replace("00000000-0000-0000-0000-000000000000", id);
  }
  function refreshHistory() {
    fetch(historyUrl, { credentials: "same-origin", headers: { "HX-Request": "true" } })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        var history = document.getElementById("history");
        if (html !== null && history) { history.outerHTML = html; }
      });
  }
  function showSubmission(statusUrl, moveFocus) {
    return fetch(statusUrl + "?h=3", { credentials: "same-origin", headers: { "HX-Request": "true" } })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.text();
      })
      .then(function (html) {
        runResult.innerHTML = html;
        if (window.htmx) window.htmx.process(runResult);
        announceStatus();
        if (moveFocus) result.focus();
      })
      .catch(function () { showError("Could not load that result; reload the page to see it."); });
  }
  document.body.addEventListener("submission-final", refreshHistory);

  function submitCode(mode, notebookButton) {
    var body;
    var options = { method: "POST" };
    if (notebookButton) {
      var file = document.getElementById("notebook").files[0];
      if (!file) { showError("Choose a notebook (.ipynb) file first."); return; }
      body = new FormData();
      body.append("mode", mode);
      body.append("notebook", file);
      options.body = body;
    } else {
      saveDraft();
      options.headers = { "Content-Type": "application/json" };
      options.body = JSON.stringify({ mode: mode, code: editor.getValue() });
    }
    showError("");
    announce(mode === "grade" ? "Submitting for grading…" : "Sending your code to run…");
    send(submitUrl, options).then(function (response) {
      if (!response.ok) return problemText(response).then(showError);
      return response.json().then(function (submission) {
        refreshHistory();
        return showSubmission(statusUrlFor(submission.id), false);
      });
    }, function () {
      showError("The server could not be reached; your code is still here. Try again in a moment.");
    });
  }

  form.addEventListener("submit", function (event) {
    var button = event.submitter;
    if (!button || !window.fetch) return;  // fall back to the plain form post
    event.preventDefault();
    if (button.id === "reset-button") { resetToStarter(); return; }
    submitCode(button.value === "grade" ? "grade" : "run", button.hasAttribute("data-notebook"));
  });

  // Earlier submissions: open the result here, or restore the code into the editor.
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a.open-submission");
    if (!link || event.ctrlKey || event.metaKey || event.shiftKey) return;
    event.preventDefault();
    showSubmission(link.getAttribute("data-status-url"), true);
  });
  document.addEventListener("submit", function (event) {
    var restore = event.target.closest && event.target.closest("form.restore-form");
    if (!restore) return;
    event.preventDefault();
    send(restore.getAttribute("data-submission-url"), { method: "GET" })
      .then(function (response) {
        if (!response.ok) return problemText(response).then(showError);
        return response.json().then(function (submission) {
          replaceCode(submission.code, "The code of that submission is in the editor; Ctrl+Z undoes.");
          saveDraft();
        });
      }, function () { showError("The server could not be reached; try again in a moment."); });
  });
})();
