/* FakeME console: keyboard shortcuts for the queue and item pages, clickable rows, video seeking.
 * Hand-written, no framework. Every action is a plain POST form with Django's CSRF token, so the
 * pages work without JavaScript too; this only makes them fast to drive from the keyboard. */
(function () {
  "use strict";

  var KEY_ROW = "fakeme.queue.current";

  function $(sel, root) { return (root || document).querySelector(sel); }
  function $all(sel, root) { return Array.prototype.slice.call((root || document).querySelectorAll(sel)); }
  function typing(el) {
    return el && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName));
  }

  /* -- help panel ----------------------------------------------------------------------- */
  function toggleHelp(force) {
    var panel = $("#shortcut-help");
    if (!panel) return;
    var show = force === undefined ? panel.hidden : force;
    panel.hidden = !show;
  }

  /* -- blurred media: reveal in place (the form posts without JavaScript too) ----------- */
  document.addEventListener("submit", function (ev) {
    var form = ev.target.closest && ev.target.closest("form.reveal");
    if (!form || !window.fetch) return;
    ev.preventDefault();
    fetch(form.action, {
      method: "POST",
      body: new FormData(form),
      headers: { "X-Requested-With": "fetch" },
      credentials: "same-origin",
    }).then(function (response) {
      if (response.status !== 204) { form.submit(); return; }  // let the server explain
      var card = form.closest(".evidence");
      if (card) card.classList.remove("veiled");
      form.remove();
    });
  });

  /* -- rows that open a page ------------------------------------------------------------ */
  document.addEventListener("click", function (ev) {
    var row = ev.target.closest && ev.target.closest("tr[data-href]");
    if (!row || ev.target.closest("a, button, input, label, select, textarea")) return;
    window.location.href = row.getAttribute("data-href");
  });

  /* -- video: seek from the timeline chart or a frame thumbnail -------------------------- */
  function seek(el) {
    var figure = el.closest("[data-timeline]");
    var index = figure ? figure.getAttribute("data-timeline") : el.getAttribute("data-player-ref");
    var player = $('video[data-player="' + index + '"]');
    if (!player) return;
    player.currentTime = parseFloat(el.getAttribute("data-seek")) || 0;
    player.scrollIntoView({ block: "nearest" });
  }
  document.addEventListener("click", function (ev) {
    var target = ev.target.closest && ev.target.closest("[data-seek]");
    if (target) seek(target);
  });
  $all("video.player").forEach(function (video) {
    video.addEventListener("error", function () {
      var note = video.nextElementSibling;
      if (note && note.classList.contains("player-note")) note.hidden = false;
    });
  });

  /* -- queue ----------------------------------------------------------------------------- */
  var table = $("#queue-table");
  var rows = table ? $all("tbody tr[data-item]", table) : [];
  var current = -1;

  function select(i, scroll) {
    if (!rows.length) return;
    i = Math.max(0, Math.min(rows.length - 1, i));
    if (current >= 0 && rows[current]) rows[current].classList.remove("current");
    current = i;
    var row = rows[current];
    row.classList.add("current");
    row.setAttribute("aria-selected", "true");
    rows.forEach(function (r, j) { if (j !== i) r.removeAttribute("aria-selected"); });
    try { sessionStorage.setItem(KEY_ROW, row.getAttribute("data-item")); } catch (e) { /* private mode */ }
    if (scroll !== false) row.scrollIntoView({ block: "nearest" });
  }

  function restore() {
    if (!rows.length) return;
    var wanted = null;
    try { wanted = sessionStorage.getItem(KEY_ROW); } catch (e) { /* private mode */ }
    var found = rows.findIndex(function (r) { return r.getAttribute("data-item") === wanted; });
    select(found >= 0 ? found : 0, false);
  }

  /* Submit one decision/claim for a row through the shared hidden form; the form names the decision
     each key sends (data-decision-<action>, from the registry in reports/decisions.py). */
  function act(action) {
    var row = rows[current];
    var form = $("#row-action");
    if (!row || !form) return;
    var url = row.getAttribute(action === "claim" ? "data-claim-url" : "data-decide-url");
    if (!url || (action === "dismiss" && row.getAttribute("data-note-required") === "1")) {
      // Appeals, and dismissals that need a note, are decided on the item page.
      window.location.href = row.getAttribute("data-href") + "#note";
      return;
    }
    form.action = url;
    form.elements.version.value = row.getAttribute("data-version");
    form.elements.decision.disabled = action === "claim";
    form.elements.decision.value = form.getAttribute("data-decision-" + action) || "";
    form.submit();
  }

  function toggleRow() {
    var row = rows[current];
    if (!row) return;
    var box = $("input[type=checkbox][name=items]", row);
    if (box) { box.checked = !box.checked; box.dispatchEvent(new Event("change", { bubbles: true })); }
  }

  function updateBulk() {
    var n = $all("#queue-table input[name=items]:checked").length;
    var count = $("#bulk-count");
    if (count) count.textContent = String(n);
    $all("#bulk-form button[type=submit]").forEach(function (b) { b.disabled = n === 0; });
  }
  if (table) {
    table.addEventListener("change", function (ev) {
      if (ev.target.name === "items") updateBulk();
      if (ev.target.id === "select-all") {
        $all("#queue-table input[name=items]").forEach(function (b) { b.checked = ev.target.checked; });
        updateBulk();
      }
    });
    rows.forEach(function (row, i) {
      row.addEventListener("mousedown", function () { select(i, false); });
    });
    restore();
    updateBulk();
  }

  /* -- item page: the decision form ----------------------------------------------------- */
  function submitItem(action) {
    var button = $('button[data-key="' + action + '"]');
    if (!button || button.disabled) return;
    var form = button.form;
    var note = form && $("textarea[name=note]", form);
    if (action === "dismiss" && form.hasAttribute("data-note-required") && note && !note.value.trim()) {
      // A high-score dismissal needs a note: say so and put the cursor there instead of submitting.
      var hint = $("#note-hint");
      if (hint) hint.hidden = false;
      note.focus();
      return;
    }
    button.click();  // a click sends the button's own name=value (the decision)
  }
  if (window.location.hash === "#note") {
    // No element has id "note": the browser's own fragment focusing leaves this focus alone.
    var noteField = $("[data-decision-form] textarea[name=note]");
    if (noteField) noteField.focus();
  }

  /* -- the keys -------------------------------------------------------------------------- */
  var onQueue = !!table;
  var onItem = !!$("[data-item-page]");
  document.addEventListener("keydown", function (ev) {
    if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
    if (ev.key === "Escape") {
      toggleHelp(false);
      if (typing(document.activeElement)) document.activeElement.blur();
      return;
    }
    if (typing(ev.target)) return;
    if (ev.key === "?") { toggleHelp(); ev.preventDefault(); return; }
    if (onQueue) {
      switch (ev.key) {
        case "j": case "ArrowDown": select(current + 1); break;
        case "k": case "ArrowUp": select(current - 1); break;
        case "o": case "Enter": if (rows[current]) window.location.href = rows[current].getAttribute("data-href"); break;
        case "x": toggleRow(); break;
        case "c": act("claim"); break;
        case "f": act("confirm"); break;
        case "d": act("dismiss"); break;
        case "e": act("escalate"); break;
        default: return;
      }
      ev.preventDefault();
    } else if (onItem) {
      switch (ev.key) {
        case "c": submitItem("claim"); break;
        case "f": submitItem("confirm"); break;
        case "d": submitItem("dismiss"); break;
        case "e": submitItem("escalate"); break;
        case "u": var back = $("[data-back]"); if (back) window.location.href = back.getAttribute("href"); break;
        default: return;
      }
      ev.preventDefault();
    }
  });

  /* -- "Go back" links: the previous page when there is one (a script file: the console's CSP allows
   * no javascript: URL), else the link's own target ------------------------------------------ */
  $all("a[data-history-back]").forEach(function (link) {
    link.addEventListener("click", function (ev) {
      if (window.history.length > 1) {
        ev.preventDefault();
        window.history.back();
      }
    });
  });
})();
