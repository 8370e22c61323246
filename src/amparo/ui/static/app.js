// Amparo review UI: deliberate reveal of blurred media, and keyboard shortcuts for decisions.
(function () {
  "use strict";
  const base = document.body.dataset.base || "";
  const csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";

  function figureOf(el) { return el.closest("figure.media"); }

  async function reveal(form) {
    const fig = figureOf(form);
    const img = fig.querySelector("img");
    const res = await fetch(form.action, {
      method: "POST",
      headers: { "Accept": "application/json", "X-CSRF-Token": csrf },
      body: new FormData(form),
      credentials: "same-origin",
    });
    const body = await res.json().catch(() => ({}));
    if (!res.ok) {
      let p = fig.querySelector(".reveal-error");
      if (!p) { p = document.createElement("p"); p.className = "error reveal-error"; fig.appendChild(p); }
      p.textContent = body.message || "Reveal refused.";
      return;
    }
    // a video is revealed as its unblurred contact sheet (ui/video_sheet.py), not as the file
    img.src = fig.dataset.kind === "video" ? body.url.replace("/original?", "/sheet?") : body.url;
    img.classList.remove("shielded");
    img.classList.add("revealed");
    fig.dataset.revealed = "1";
    form.hidden = true;
    fig.querySelector(".hide-again").hidden = false;
    const count = document.getElementById("exposure-count");
    if (count && body.exposure !== undefined) count.textContent = body.exposure;
  }

  function hideAgain(button) {
    const fig = figureOf(button);
    const img = fig.querySelector("img");
    img.src = img.dataset.preview;
    img.classList.add("shielded");
    img.classList.remove("revealed");
    delete fig.dataset.revealed;
    button.hidden = true;
    fig.querySelector(".reveal-form").hidden = false;
  }

  document.addEventListener("submit", (ev) => {
    const form = ev.target;
    if (form.classList && form.classList.contains("reveal-form")) {
      ev.preventDefault();
      reveal(form);
    }
  });
  document.addEventListener("click", (ev) => {
    const b = ev.target.closest && ev.target.closest(".hide-again");
    if (b) hideAgain(b);
  });

  const decideForm = document.getElementById("decide-form");
  function showConfirmFields() {
    if (!decideForm) return;
    const kind = decideForm.querySelector('input[name="kind"]:checked');
    const extra = decideForm.querySelector(".confirm-only");
    if (extra) extra.hidden = !(kind && kind.value === "confirm");
  }
  if (decideForm) {
    decideForm.addEventListener("change", showConfirmFields);
    showConfirmFields();
  }

  function choose(id) {
    const radio = document.getElementById(id);
    if (!radio) return;
    radio.checked = true;
    showConfirmFields();
    const submit = document.getElementById("submit-decision");
    if (submit) submit.focus();
  }

  document.addEventListener("keydown", (ev) => {
    if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
    const t = ev.target;
    if (t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.tagName === "SELECT")) return;
    switch (ev.key) {
      case "c": choose("kind-confirm"); break;
      case "n": choose("kind-not-violating"); break;
      case "e": choose("kind-escalate"); break;
      case "r": {
        const next = document.querySelector("figure.media:not([data-revealed]) .reveal-form");
        if (next) reveal(next);
        break;
      }
      case "q": window.location.href = base + "/queue"; break;
      case "Enter":
        if (decideForm && t === document.body && decideForm.querySelector('input[name="kind"]:checked')) {
          ev.preventDefault();
          decideForm.requestSubmit();
        }
        break;
      default: return;
    }
  });
})();
