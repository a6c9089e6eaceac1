// praxis-sms portal: small progressive touches. Every page works without this script.
(function () {
  "use strict";

  // Copy buttons: shown only when the clipboard can be used.
  document.querySelectorAll("[data-copy-target]").forEach(function (button) {
    var input = document.getElementById(button.getAttribute("data-copy-target"));
    if (!input || !navigator.clipboard) { return; }
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(input.value).then(function () {
        button.textContent = "Kopiert ✓";
      });
    });
  });

  function csrfOf(form) {
    var field = form.querySelector("input[name=csrf]");
    return field ? field.value : "";
  }

  // Live sender check: the server's own rule, asked as one types.
  document.querySelectorAll("[data-sender-check]").forEach(function (input) {
    var out = document.getElementById("sender-check");
    var timer;
    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        fetch("/einstellungen/absender-pruefen?absender=" + encodeURIComponent(input.value), { credentials: "same-origin" })
          .then(function (r) { return r.json(); })
          .then(function (v) {
            out.textContent = v.message;
            input.setAttribute("aria-invalid", v.ok ? "false" : "true");
          })
          .catch(function () {});
      }, 250);
    });
  });

  // Textprüfer: counts as one types, by the same rules as on submit.
  document.querySelectorAll("form[data-checker]").forEach(function (form) {
    var text = form.querySelector("textarea");
    var pick = form.querySelector("[data-suggestions]");
    var result = document.getElementById("result");
    function show(v) {
      result.querySelector("[data-out=characters]").textContent = v.characters;
      result.querySelector("[data-out=encoding]").textContent = v.encoding;
      result.querySelector("[data-out=segments]").textContent = v.segments;
      result.querySelector("[data-out=problem]").textContent = v.problem || "";
      var forcing = result.querySelector("[data-out=forcing]");
      forcing.textContent = "";
      if (v.encoding === "UCS-2" && v.forcing_ucs2.length) {
        var p = document.createElement("p");
        p.textContent = "Diese Zeichen erzwingen UCS-2: ";
        v.forcing_ucs2.forEach(function (c) {
          var m = document.createElement("mark");
          m.textContent = c;
          p.appendChild(m);
          p.appendChild(document.createTextNode(" "));
        });
        forcing.appendChild(p);
        var marked = document.createElement("p");
        marked.className = "marked";
        Array.from(text.value).forEach(function (c) {
          if (v.forcing_ucs2.indexOf(c) >= 0) {
            var m = document.createElement("mark");
            m.textContent = c;
            marked.appendChild(m);
          } else {
            marked.appendChild(document.createTextNode(c));
          }
        });
        forcing.appendChild(marked);
      }
    }
    var timer;
    function count() {
      clearTimeout(timer);
      timer = setTimeout(function () {
        var body = new URLSearchParams({ csrf: csrfOf(form), text: text.value });
        fetch("/textpruefer/zaehlen", { method: "POST", body: body, credentials: "same-origin" })
          .then(function (r) { return r.json(); })
          .then(show)
          .catch(function () {});
      }, 150);
    }
    text.addEventListener("input", count);
    if (pick) {
      pick.addEventListener("change", function () {
        if (pick.value) { text.value = pick.value; count(); }
      });
    }
  });
})();
