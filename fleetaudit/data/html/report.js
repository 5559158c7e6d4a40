"use strict";
(function () {
  const table = document.getElementById("findings");
  const body = table.tBodies[0];
  const rows = Array.from(body.rows);
  const filter = document.getElementById("filter");
  const severity = document.getElementById("severity");
  const shown = document.getElementById("shown");

  function apply() {
    const query = filter.value.trim().toLowerCase();
    let count = 0;
    for (const row of rows) {
      const visible = (!query || row.textContent.toLowerCase().includes(query)) &&
        (!severity.value || row.dataset.severity === severity.value);
      row.hidden = !visible;
      if (visible) count += 1;
    }
    shown.textContent = String(count);
  }

  let order = {};
  Array.from(table.tHead.rows[0].cells).forEach(function (cell, index) {
    cell.addEventListener("click", function () {
      const ascending = !order[index];
      order = {}; order[index] = ascending;
      const key = function (row) {
        return cell.dataset.sort === "rank" ? Number(row.dataset.rank)
          : row.cells[index].textContent.toLowerCase();
      };
      rows.sort(function (a, b) {
        const x = key(a), y = key(b);
        return (x < y ? -1 : x > y ? 1 : 0) * (ascending ? 1 : -1);
      });
      for (const row of rows) body.appendChild(row);
    });
  });

  filter.addEventListener("input", apply);
  severity.addEventListener("change", apply);
  // A hand-typed link may hold a bare "%" (#q=100%): decoding it throws, and the raw text
  // is then the best guess at what was meant.
  function decoded(text) {
    try {
      return decodeURIComponent(text);
    } catch (error) {
      return text;
    }
  }

  const preset = /^#q=(.*)$/.exec(window.location.hash);
  if (preset) filter.value = decoded(preset[1]);
  apply();
})();
