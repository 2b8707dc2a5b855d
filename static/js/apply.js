/* The apply page: the quote follows the chosen invoices and amount without a reload.
   Without JavaScript the "Recalculate quote" button does the same through the server. */
(function () {
  "use strict";
  var form = document.getElementById("apply-form");
  if (!form || !window.fetch) { return; }
  var url = form.getAttribute("data-quote-url");
  var program = form.querySelector("select[name=program]");
  var shown = form.querySelector("input[name=shown_program]");
  var note = document.getElementById("quote-note");
  var timer = null;
  var serial = 0;

  function show(quote) {
    var cells = form.querySelectorAll("[data-quote]");
    for (var i = 0; i < cells.length; i++) {
      var key = cells[i].getAttribute("data-quote");
      cells[i].textContent = quote && quote[key] !== undefined ? quote[key] : "—";
    }
  }

  function refresh() {
    var params = new URLSearchParams(new FormData(form));
    params.delete("shown_program");
    var mine = ++serial;
    fetch(url + "?" + params.toString(), {
      credentials: "same-origin",
      headers: { "Accept": "application/json" }
    }).then(function (response) {
      return response.ok ? response.json() : null;
    }).then(function (data) {
      if (mine !== serial || !data) { return; }
      show(data.ok ? data.quote : null);
      if (note) {
        note.textContent = data.ok ? data.note : "";
        note.hidden = !(data.ok && data.note);
      }
    }).catch(function () { /* the button still works */ });
  }

  form.addEventListener("change", function (event) {
    if (event.target === program) {
      // Another program lists other invoices: reload the page for it.
      if (!shown || shown.value !== program.value) { form.submit(); }
      return;
    }
    refresh();
  });
  form.addEventListener("input", function (event) {
    if (event.target.name === "requested_amount") {
      clearTimeout(timer);
      timer = setTimeout(refresh, 300);
    }
  });
})();
