/* The hotline console's keyboard (dashboard/pages/hotline.py): Ctrl+Enter saves, Alt+1..9 insert a phrase,
   Esc in the phone field clears it; after a save the phone field has the focus again for the next call.
   The triage page (dashboard/pages/triage.py) saves its correction with Ctrl+Enter too. */
(function () {
  "use strict";

  function click(selector) {
    const el = document.querySelector(selector);
    if (el && !el.disabled) { el.click(); return true; }
    return false;
  }

  document.addEventListener("keydown", function (e) {
    if (!document.querySelector(".gc-hl, .gc-tr")) return;
    if ((e.ctrlKey || e.metaKey) && e.key === "Enter") {
      if (click("#hl-save") || click("#tr-file")) e.preventDefault();
      return;
    }
    if (e.altKey && !e.ctrlKey && !e.metaKey && /^Digit[1-9]$/.test(e.code || "")) {
      const n = e.code.slice(5);
      if (click('.gc-hl-phrase[data-key="' + n + '"]')) e.preventDefault();
    }
  }, true);

  // After a save (the result line changes), back to the phone field for the next caller.
  const seen = new WeakSet();
  new MutationObserver(function () {
    const result = document.getElementById("hl-result");
    if (result && !seen.has(result)) {
      seen.add(result);
      new MutationObserver(function () {
        if (result.querySelector(".gc-hl-saved, #hl-answered")) {
          const phone = document.getElementById("hl-phone");
          if (phone) phone.focus();
        }
      }).observe(result, {childList: true, subtree: true});
    }
  }).observe(document.documentElement, {childList: true, subtree: true});
})();
