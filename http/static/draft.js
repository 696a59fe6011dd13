// Drafting form: shows the classification banner as the paragraphs are
// marked, keeps the whole from being set below its highest paragraph,
// and adds paragraph boxes. The server recomputes all of it; the form
// works without this script.
(function () {
  "use strict";
  var form = document.getElementById("draft-form");
  var banner = document.getElementById("draft-banner");
  if (!form || !banner) return;

  var names = ["", "UNCLASSIFIED", "LIMITED OFFICIAL USE", "CONFIDENTIAL", "SECRET", "TOP SECRET"];
  var classes = ["cls-none", "cls-u", "cls-lou", "cls-c", "cls-s", "cls-ts"];
  var marks = { U: 1, SBU: 2, C: 3, S: 4, TS: 5 };
  var whole = form.elements.namedItem("classification");
  var list = document.getElementById("paragraph-list");

  function highestParagraph() {
    var hi = 0;
    list.querySelectorAll(".paragraph").forEach(function (p) {
      var text = p.querySelector("textarea");
      var mark = p.querySelector("select");
      if (text && mark && text.value.trim() !== "" && (marks[mark.value] || 0) > hi) {
        hi = marks[mark.value];
      }
    });
    return hi;
  }

  function update() {
    var hi = highestParagraph();
    Array.prototype.forEach.call(whole.options, function (o) {
      if (o.value !== "") o.disabled = names.indexOf(o.value) < hi;
    });
    if (whole.selectedOptions.length && whole.selectedOptions[0].disabled) whole.value = "";
    var level = Math.max(hi, whole.value ? names.indexOf(whole.value) : 0);
    if (!level) {
      banner.textContent = "CLASSIFICATION NOT SET";
      banner.className = "banner cls-none";
      return;
    }
    var parts = [names[level]];
    var caps = [];
    form.querySelectorAll('input[name="captions"]:checked').forEach(function (c) { caps.push(c.value); });
    if (caps.length) parts.push(caps.join("/"));
    var noforn = form.querySelector('input[name="handling"][value="NOFORN"]');
    if (noforn && noforn.checked) parts.push("NOFORN");
    banner.textContent = parts.join("//");
    banner.className = "banner " + classes[level];
  }

  var add = document.getElementById("add-paragraph");
  if (add && list) {
    add.hidden = false;
    add.addEventListener("click", function () {
      var last = list.lastElementChild;
      if (!last) return;
      var n = list.children.length + 1;
      var box = last.cloneNode(true);
      box.classList.remove("has-error");
      box.querySelectorAll(".field-error").forEach(function (e) { e.remove(); });
      var text = box.querySelector("textarea");
      var mark = box.querySelector("select");
      var labels = box.querySelectorAll("label");
      text.value = "";
      text.id = "f-p" + n;
      mark.value = "";
      mark.id = "f-p" + n + "-class";
      labels[0].htmlFor = text.id;
      labels[0].textContent = "Paragraph " + n;
      labels[1].htmlFor = mark.id;
      labels[1].textContent = "Portion mark of paragraph " + n;
      list.appendChild(box);
      text.focus();
      update();
    });
  }

  form.addEventListener("input", update);
  form.addEventListener("change", update);
  update();
})();
