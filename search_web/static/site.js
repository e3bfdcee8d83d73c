// Tables wider than the screen say so: a hint and an edge shadow while more lies to the right.
(function () {
  "use strict";
  function mark() {
    document.querySelectorAll(".table-scroll").forEach(function (box) {
      var more = box.scrollWidth > box.clientWidth + 1;
      box.classList.toggle("scrolls", more);
      box.classList.toggle("at-end", more && box.scrollLeft + box.clientWidth >= box.scrollWidth - 1);
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    mark();
    window.addEventListener("resize", mark);
    document.querySelectorAll(".table-scroll").forEach(function (box) {
      box.addEventListener("scroll", mark, { passive: true });
    });
  });
})();
