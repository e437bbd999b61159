// Drag a card onto another column to move it: progressive enhancement over the card's own
// buttons. A drop "clicks" the card's button for that column, so htmx, the CSRF header and the
// server's validation are the same as for the keyboard; a drop no button allows says why.
(function () {
  "use strict";
  let dragged = null;

  document.addEventListener("dragstart", function (event) {
    const card = event.target.closest && event.target.closest(".fcard[draggable=true]");
    if (!card) return;
    dragged = card;
    card.classList.add("dragging");
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", card.dataset.number);
  });

  document.addEventListener("dragend", function () {
    if (dragged) dragged.classList.remove("dragging");
    dragged = null;
    document.querySelectorAll(".column.drop-ok").forEach(function (c) { c.classList.remove("drop-ok"); });
  });

  document.addEventListener("dragover", function (event) {
    const column = event.target.closest && event.target.closest(".column");
    if (!dragged || !column) return;
    if (dragged.querySelector('button[data-to="' + column.dataset.status + '"]')) {
      event.preventDefault();
      column.classList.add("drop-ok");
    }
  });

  document.addEventListener("dragleave", function (event) {
    const column = event.target.closest && event.target.closest(".column");
    if (column && !column.contains(event.relatedTarget)) column.classList.remove("drop-ok");
  });

  document.addEventListener("drop", function (event) {
    const column = event.target.closest && event.target.closest(".column");
    if (!dragged || !column) return;
    event.preventDefault();
    const button = dragged.querySelector('button[data-to="' + column.dataset.status + '"]');
    if (button) button.click();
  });
})();
