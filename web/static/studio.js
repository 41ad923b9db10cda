// The studio's editor: a BPMN file in the bpmn-js Modeler, a DMN file in the dmn-js Modeler (both
// from web/static/vendor), a data file as text. "Save draft" posts the diagram's XML (or the text) to the server, which keeps it as the
// analyst's draft; validate and publish happen on the studio page, with the server's checks.
(function () {
  if (!document.getElementById("save-draft")) { return; }  // a withdrawal draft: nothing to edit
  var data = JSON.parse(document.getElementById("file-data").textContent);
  var status = document.getElementById("save-status");
  var csrf = JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRF-Token"];
  var modeler = null;

  if (data.kind === "bpmn" || data.kind === "dmn") {
    var container = document.getElementById("modeler");
    modeler = data.kind === "bpmn" ? new BpmnJS({ container: container, keyboard: { bindTo: document } })
                                   : new DmnJS({ container: container });
    window.studioModeler = modeler;  // the browser tests edit through the modeler's own API
    modeler.importXML(data.content).then(function () {
      if (data.kind === "bpmn") {
        modeler.get("canvas").zoom("fit-viewport");
      } else {
        // Our tables carry no DRD layout: open the first decision table, which is what an
        // analyst edits (a pricing tier, a review route).
        var table = modeler.getViews().filter(function (view) { return view.type === "decisionTable"; })[0];
        if (table) { return modeler.open(table); }
      }
    }).then(function () {
      container.setAttribute("data-rendered", "yes");
    }).catch(function (err) {
      container.setAttribute("data-rendered", "failed");
      document.getElementById("modeler-problem").hidden = false;
      console.error(err);
    });
  }

  function content() {
    if (modeler) {
      return modeler.saveXML({ format: true }).then(function (result) { return result.xml; });
    }
    return Promise.resolve(document.getElementById("source").value);
  }

  document.getElementById("save-draft").addEventListener("click", function () {
    status.textContent = "…";
    content().then(function (text) {
      var body = new FormData();
      body.append("content", text);
      return fetch(data.save_url, { method: "POST", body: body, headers: { "X-CSRF-Token": csrf },
                                    credentials: "same-origin" });
    }).then(function (response) {
      return response.json().then(function (answer) { return { ok: response.ok, answer: answer }; });
    }).then(function (result) {
      if (result.ok) {
        var at = new Date(result.answer.saved_at);
        var time = at.toLocaleTimeString("zh-CN", { timeZone: "Asia/Shanghai", hour12: false });
        status.textContent = data.saved.replace("%(time)s", time);
        status.setAttribute("data-saved", "yes");
      } else {
        var reasons = [];
        Object.keys(result.answer.fields || {}).forEach(function (field) {
          reasons.push(field + ": " + result.answer.fields[field].join("; "));
        });
        status.textContent = data.failed.replace("%(reason)s", reasons.join(" · "));
        status.setAttribute("data-saved", "no");
      }
    }).catch(function (err) {
      status.textContent = data.failed.replace("%(reason)s", String(err));
      status.setAttribute("data-saved", "no");
    });
  });
})();
