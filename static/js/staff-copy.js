// "Copy link" buttons: shown only where the clipboard can be written; the field stays selectable.
(function () {
  "use strict";
  document.querySelectorAll("[data-copy-target]").forEach(function (button) {
    if (!navigator.clipboard) {
      return;
    }
    var field = document.getElementById(button.dataset.copyTarget);
    var status = button.closest(".copy-field").querySelector(".copy-status");
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(field.value).then(
        function () {
          status.textContent = "Link copied.";
        },
        function () {
          field.select();
          status.textContent = "Copying was refused; the link is selected, copy it with Ctrl+C.";
        }
      );
    });
  });
})();
