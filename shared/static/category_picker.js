// Progressive enhancement of a category <select class="category-picker">: a search box above
// it narrows the list as one types, by the words of the page's language, everyday words and
// EWC codes ("15 01 03", "150103", "palettes", "Kartoffeln"). Each <option> carries its
// folded search terms in data-terms (see shared/category_search.py, whose rules this follows);
// options without them are found by their text. Without JavaScript the grouped list remains.
(function () {
  "use strict";
  var MIN_INFIX = 5;
  var MAX_ROWS = 10;

  function fold(text) {
    return text.toLowerCase().replace(/ß/g, "ss").replace(/œ/g, "oe")
      .normalize("NFKD").replace(/[\u0300-\u036f]/g, "")
      .replace(/[^0-9a-z]+/g, " ").trim();
  }

  function wordMatches(typed, word) {
    return word.indexOf(typed) === 0 || (typed.length >= MIN_INFIX && word.indexOf(typed) >= 0);
  }

  function termMatches(typedWords, term) {
    var words = term.split(" ");
    return typedWords.every(function (typed) {
      return words.some(function (word) { return wordMatches(typed, word); });
    });
  }

  function ewcQuery(text) {
    var match = /^(?:ewc[\s-]*)?(\d{2})[\s.-]*(\d{2})?[\s.-]*(\d{2})?\*?$/i.exec(text.trim());
    return match ? match.slice(1).join("") : null;
  }

  function termsOf(option) {
    var given = option.getAttribute("data-terms");
    if (given) { return given.split("|"); }
    // No terms from the server: the option's text, and the EWC code it shows, "(15 01 03)".
    var code = /\((\d{2}(?: \d{2}){0,2})\)/.exec(option.textContent);
    return [fold(option.textContent)].concat(code ? [code[1].replace(/ /g, "")] : []);
  }

  function matches(option, query, code) {
    var terms = termsOf(option);
    if (code !== null) {
      return terms.some(function (term) { return /^\d{2,6}$/.test(term) && term.indexOf(code) === 0; });
    }
    var typedWords = query.split(" ");
    return terms.some(function (term) { return termMatches(typedWords, term); });
  }

  function enhance(select, index) {
    if (select.getAttribute("data-enhanced")) { return; }
    select.setAttribute("data-enhanced", "true");
    // The full list, kept to rebuild from: [{group, options}] with group null for loose ones.
    var parts = [];
    Array.prototype.forEach.call(select.children, function (child) {
      if (child.tagName === "OPTGROUP") {
        parts.push({ group: child, options: Array.prototype.slice.call(child.children) });
      } else {
        parts.push({ group: null, options: [child] });
      }
    });

    var box = document.createElement("div");
    box.className = "category-filter";
    var label = document.createElement("label");
    var input = document.createElement("input");
    var status = document.createElement("p");
    input.type = "search";
    input.id = (select.id || "category") + "-filter-" + index;
    input.autocomplete = "off";
    input.setAttribute("aria-controls", select.id);
    input.setAttribute("aria-describedby", input.id + "-status");
    label.htmlFor = input.id;
    label.textContent = select.getAttribute("data-filter-label") || "Filter";
    status.id = input.id + "-status";
    status.className = "hint";
    status.setAttribute("role", "status");
    box.appendChild(label);
    box.appendChild(input);
    box.appendChild(status);
    select.parentNode.insertBefore(box, select);

    function rebuild() {
      var query = fold(input.value);
      var code = ewcQuery(input.value);
      var found = 0;
      // Options taken out of the list are not sent with the form: what is chosen stays. Read
      // before emptying the list: a single <select> losing its chosen option selects another.
      var chosen = Array.prototype.map.call(select.selectedOptions, function (option) {
        return option.value;
      });
      var keep = function (option) {
        return option.value === "" || chosen.indexOf(option.value) >= 0;
      };
      var rows = 0;
      while (select.firstChild) { select.removeChild(select.firstChild); }
      parts.forEach(function (part) {
        var kept = part.options.filter(function (option) {
          return !query || keep(option) || matches(option, query, code);
        });
        found += kept.filter(function (option) { return !keep(option); }).length;
        if (!kept.length) { return; }
        if (part.group) {
          while (part.group.firstChild) { part.group.removeChild(part.group.firstChild); }
          kept.forEach(function (option) { part.group.appendChild(option); });
          select.appendChild(part.group);
          rows += 1;
        } else {
          kept.forEach(function (option) { select.appendChild(option); });
        }
        rows += kept.length;
      });
      parts.forEach(function (part) {
        part.options.forEach(function (option) { option.selected = chosen.indexOf(option.value) >= 0; });
      });
      if (!query) {
        status.textContent = "";
        select.removeAttribute("size");
        return;
      }
      var template = found === 0 ? select.getAttribute("data-filter-none")
        : found === 1 ? select.getAttribute("data-filter-one")
        : select.getAttribute("data-filter-many");
      status.textContent = (template || "%(num)s").replace("%(num)s", String(found));
      // Show the matches as an open list (the browser keeps a phone's own picker).
      if (!select.multiple) { select.size = Math.max(2, Math.min(MAX_ROWS, rows)); }
    }

    input.addEventListener("input", rebuild);
    input.addEventListener("keydown", function (event) {
      // Enter or arrow down moves to the list instead of sending the form.
      if (event.key === "Enter" || event.key === "ArrowDown") {
        event.preventDefault();
        select.focus();
      }
    });
  }

  Array.prototype.forEach.call(document.querySelectorAll("select.category-picker"), enhance);
})();
