// Find in document: marks every occurrence in the text and attachments, steps through them, and keeps
// the search in the URL (#find=...) so a link or a reload shows the same place.
(function () {
  "use strict";
  var input = document.getElementById("find");
  if (!input) { return; }
  var status = document.getElementById("find-status");
  var roots = Array.prototype.slice.call(document.querySelectorAll("#doc-text, .attachments pre"));
  var marks = [];
  var current = -1;

  function clear() {
    marks.forEach(function (m) {
      var parent = m.parentNode;
      parent.replaceChild(document.createTextNode(m.textContent), m);
      parent.normalize();
    });
    marks = [];
    current = -1;
  }

  function textNodes(root) {
    var walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT, null);
    var nodes = [];
    while (walker.nextNode()) { nodes.push(walker.currentNode); }
    return nodes;
  }

  function find(needle) {
    clear();
    if (!needle) { status.textContent = ""; return; }
    var lower = needle.toLowerCase();
    roots.forEach(function (root) {
      textNodes(root).forEach(function (node) {
        var text = node.nodeValue;
        var at = text.toLowerCase().indexOf(lower);
        while (at !== -1) {
          var match = node.splitText(at);
          node = match.splitText(needle.length);
          var mark = document.createElement("mark");
          mark.className = "find";
          match.parentNode.replaceChild(mark, match);
          mark.appendChild(match);
          marks.push(mark);
          text = node.nodeValue;
          at = text.toLowerCase().indexOf(lower);
        }
      });
    });
    if (marks.length) { go(0); } else { status.textContent = "未找到"; }
  }

  function go(i) {
    if (!marks.length) { return; }
    if (current >= 0) { marks[current].classList.remove("current"); }
    current = (i + marks.length) % marks.length;
    var mark = marks[current];
    mark.classList.add("current");
    var details = mark.closest("details");
    if (details) { details.open = true; }
    mark.scrollIntoView({block: "center"});
    status.textContent = "第 " + (current + 1) + " / " + marks.length + " 处";
  }

  function remember(needle) {
    var url = location.pathname + location.search + (needle ? "#find=" + encodeURIComponent(needle) : "");
    history.replaceState(null, "", url);
  }

  var timer = null;
  input.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(function () { find(input.value.trim()); remember(input.value.trim()); }, 150);
  });
  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter") { event.preventDefault(); go(current + (event.shiftKey ? -1 : 1)); }
    if (event.key === "Escape") { input.value = ""; find(""); remember(""); }
  });
  document.getElementById("find-next").addEventListener("click", function () { go(current + 1); });
  document.getElementById("find-prev").addEventListener("click", function () { go(current - 1); });
  document.getElementById("print").addEventListener("click", function () { window.print(); });

  var hash = /^#find=(.*)$/.exec(location.hash);
  if (hash) {
    input.value = decodeURIComponent(hash[1]);
    find(input.value.trim());
  }
}());
