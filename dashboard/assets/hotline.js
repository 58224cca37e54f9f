/* The hotline console's keyboard (dashboard/pages/hotline.py): Ctrl+Enter saves, Alt+1..9 insert a phrase,
   ↑/↓ and Enter choose an address candidate; after a save the phone field has the focus again for the next call.
   The triage page (dashboard/pages/triage.py) saves its correction with Ctrl+Enter too. */
(function () {
  "use strict";

  function click(selector) {
    const el = document.querySelector(selector);
    if (el && !el.disabled) { el.click(); return true; }
    return false;
  }

  // The address field's candidates (#hl-addr-list): ↑/↓ move the active one, Enter picks it (the server places
  // the call there), and the description is next.
  function addressKeys(e) {
    const items = Array.from(document.querySelectorAll("#hl-addr-list .gc-hl-addr-item"));
    if (!items.length || e.ctrlKey || e.metaKey || e.altKey) return false;
    let at = items.findIndex(function (el) { return el.classList.contains("gc-active"); });
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      at = e.key === "ArrowDown" ? Math.min(items.length - 1, at + 1) : Math.max(0, at - 1);
      items.forEach(function (el, i) {
        el.classList.toggle("gc-active", i === at);
        el.setAttribute("aria-selected", i === at ? "true" : "false");
      });
      items[at].scrollIntoView({block: "nearest"});
      return true;
    }
    if (e.key === "Enter") {
      (items[at] || items[0]).click();
      const desc = document.getElementById("hl-desc");
      if (desc) desc.focus();
      return true;
    }
    return false;
  }

  document.addEventListener("keydown", function (e) {
    if (!document.querySelector(".gc-hl, .gc-tr")) return;
    if (e.target && e.target.id === "hl-address" && addressKeys(e)) {
      e.preventDefault();
      return;
    }
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
