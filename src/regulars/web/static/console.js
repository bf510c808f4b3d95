/* regulars staff console: optional progressive enhancement, no build step.
   Everything works without it; it only saves taps at a busy counter. */
(function () {
  "use strict";
  // Keep the card box ready for the next scan: a USB scanner types into whatever has focus.
  var scan = document.querySelector("[data-scan]");
  if (scan && !document.querySelector("[data-keep-focus]")) {
    scan.focus();
    scan.select();
  }
  // The card page's print button (no inline handlers: the page's policy runs none).
  Array.prototype.forEach.call(document.querySelectorAll("[data-print]"), function (button) {
    button.addEventListener("click", function () { window.print(); });
  });
  // A double tap on a submit button must not send the same form twice.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.dataset.sent) { event.preventDefault(); return; }
    form.dataset.sent = "1";
    window.setTimeout(function () { delete form.dataset.sent; }, 4000);
  });
})();
