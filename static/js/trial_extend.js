/* T6: show the resulting end date as the partner picks (the Preview button does the same
   without JavaScript). A static file, so the Content-Security-Policy needs no inline script;
   the translated messages come from the form's data attributes. */
(function () {
  var form = document.getElementById("extend-form");
  if (!form) return;
  var box = document.getElementById("extend-preview");
  var msgEnd = form.dataset.msgEnd;
  var msgShort = form.dataset.msgShort;
  var msgCap = form.dataset.msgCap;
  var msgAsk = form.dataset.msgAsk;
  function parse(s) { var p = s.split("-"); return new Date(Date.UTC(+p[0], +p[1] - 1, +p[2])); }
  function update() {
    var picked = form.querySelector("input[name=days]:checked");
    if (!picked) return;
    var end = parse(form.dataset.today);
    end.setUTCDate(end.getUTCDate() + parseInt(picked.value, 10));
    var iso = end.toISOString().slice(0, 10);
    var html = "<p>" + msgEnd + " <strong id=\"new-end\">" + end.toLocaleDateString(document.documentElement.lang || undefined, {timeZone: "UTC", year: "numeric", month: "long", day: "numeric"}) + "</strong> (" + iso + ").</p>";
    if (iso < form.dataset.currentEnd) html += "<p class=\"msg msg-warning\" id=\"shorten-warning\">" + msgShort + "</p>";
    if (form.dataset.cap && iso > form.dataset.cap) html += "<p class=\"msg msg-warning\" id=\"cap-warning\">" + msgCap + "</p>";
    else if (form.dataset.cap) html += "<p class=\"msg\" id=\"approval-note\">" + msgAsk + "</p>";
    box.innerHTML = html;
  }
  form.addEventListener("change", update);
  update();
})();
