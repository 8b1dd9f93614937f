// Small enhancements on every page; each page works the same without this file.
(function () {
  "use strict";

  // The header menu is a <details>: portal.css shows it open on wide screens through
  // ::details-content. Browsers without that pseudo-element get it opened here instead.
  function setUpMenus() {
    if (window.CSS && CSS.supports && CSS.supports("selector(::details-content)")) return;
    const wide = window.matchMedia("(min-width: 48rem)");
    function apply() {
      for (const menu of document.querySelectorAll("[data-site-menu]")) menu.open = wide.matches;
    }
    apply();
    wide.addEventListener("change", apply);
  }

  // Copy buttons: <button data-copy-text="..." data-copy-status="id" hidden>. Shown only where
  // the clipboard can be written; the text itself stays on the page to select by hand.
  function setUpCopyButtons() {
    if (!navigator.clipboard) return;
    for (const button of document.querySelectorAll("[data-copy-text]")) {
      const status = document.getElementById(button.dataset.copyStatus);
      button.hidden = false;
      button.addEventListener("click", function () {
        navigator.clipboard.writeText(button.dataset.copyText).then(
          function () {
            if (status) status.textContent = button.dataset.copiedMessage || "Copied.";
          },
          function () {
            if (status) status.textContent = "Copying was refused; select the text and copy it by hand.";
          }
        );
      });
    }
  }

  function ready() {
    setUpMenus();
    setUpCopyButtons();
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", ready);
  else ready();
})();
