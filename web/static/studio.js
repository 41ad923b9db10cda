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

  if (modeler && data.kind === "bpmn") { propertiesPanel(modeler); }

  // A small properties panel for what an analyst changes most: names, timers (the review SLA's
  // reminder and escalation) and conditions on flows. Timer text is an expression in our engine,
  // so the ISO value is shown bare and written back quoted ('PT24H').
  function propertiesPanel(modeler) {
    var modeling = modeler.get("modeling");
    var selected = null;
    var field = function (id) { return document.getElementById(id); };
    modeler.on("selection.changed", function (event) {
      selected = event.newSelection.length === 1 ? event.newSelection[0] : null;
      show();
    });
    function timerOf(bo) {
      var definition = (bo.eventDefinitions || []).filter(function (d) { return d.$type === "bpmn:TimerEventDefinition"; })[0];
      if (!definition) { return null; }
      var kind = ["timeDuration", "timeDate", "timeCycle"].filter(function (k) { return definition[k]; })[0] || "timeDuration";
      return { definition: definition, kind: kind, expression: definition[kind] };
    }
    function show() {
      field("prop-none").hidden = !!selected;
      field("prop-fields").hidden = !selected;
      if (!selected) { return; }
      var bo = selected.businessObject;
      field("prop-type").textContent = bo.$type.replace("bpmn:", "");
      field("prop-id").textContent = bo.id;
      field("prop-name").value = bo.name || "";
      var timer = timerOf(bo);
      field("prop-timer-fields").hidden = !timer;
      if (timer) {
        field("prop-timer-kind").value = timer.kind;
        field("prop-timer").value = unquote(timer.expression ? timer.expression.body : "");
        reading();
      }
      var condition = bo.conditionExpression;
      field("prop-condition-fields").hidden = !condition;
      if (condition) { field("prop-condition").value = condition.body || ""; field("prop-condition-check").textContent = ""; }
    }
    field("prop-name").addEventListener("change", function () {
      if (selected) { modeling.updateLabel(selected, field("prop-name").value); }
    });
    function writeTimer() {
      var timer = selected && timerOf(selected.businessObject);
      if (!timer) { return; }
      var kind = field("prop-timer-kind").value;
      var body = "'" + field("prop-timer").value.trim() + "'";
      if (kind === timer.kind && timer.expression) {  // the same kind: only its text changes
        modeling.updateModdleProperties(selected, timer.expression, { body: body });
        reading();
        return;
      }
      var moddle = modeler.get("moddle");
      var expression = moddle.create("bpmn:FormalExpression", { body: body });
      var changes = { timeDuration: undefined, timeDate: undefined, timeCycle: undefined };
      changes[kind] = expression;
      modeling.updateModdleProperties(selected, timer.definition, changes);
      reading();
    }
    field("prop-timer").addEventListener("change", writeTimer);
    field("prop-timer-kind").addEventListener("change", writeTimer);
    field("prop-timer").addEventListener("input", reading);
    // Checked by the server's sandbox as the analyst types (a pause of 300 ms between requests).
    var pending = null;
    field("prop-condition").addEventListener("input", function () {
      clearTimeout(pending);
      pending = setTimeout(checkCondition, 300);
    });
    function checkCondition() {
      var body = new FormData();
      body.append("expression", field("prop-condition").value);
      fetch(data.check_url, { method: "POST", body: body, headers: { "X-CSRF-Token": csrf }, credentials: "same-origin" })
        .then(function (response) { return response.json(); })
        .then(function (answer) {
          var shown = field("prop-condition-check");
          shown.textContent = answer.ok ? data.runs : answer.problems.join(" · ");
          shown.setAttribute("data-ok", answer.ok ? "yes" : "no");
        });
    }
    field("prop-condition").addEventListener("change", function () {
      var bo = selected && selected.businessObject;
      if (bo && bo.conditionExpression) {
        modeling.updateModdleProperties(selected, bo.conditionExpression, { body: field("prop-condition").value });
      }
    });
    function reading() { field("prop-timer-reading").textContent = humanReading(field("prop-timer").value.trim()); }
  }

  function unquote(text) { return (text || "").trim().replace(/^'(.*)'$/, "$1").replace(/^"(.*)"$/, "$1"); }

  // "PT48H" → "48 小时", "working_days(2)" → "2 个工作日", "P1DT12H" → "1 天 12 小时", "R3/PT1H" → "重复 3 × 1 小时"; a date stays as written.
  function humanReading(value) {
    if (/^\d{4}-\d{2}-\d{2}/.test(value)) { return value; }
    // The bank's working time (workflows/timers.py): "working_days(2)" → "2 个工作日".
    var working = /^working_(days|hours)\(\s*(\d+)\s*\)$/.exec(value);
    if (working) { return working[2] + " " + data.units["working_" + working[1]]; }
    var cycle = /^R(\d*)\/(.+)$/.exec(value);
    if (cycle) { return data.repeats + " " + (cycle[1] || "∞") + " × " + humanReading(cycle[2]); }
    var match = /^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/.exec(value);
    if (!match || value === "P" || value === "PT") { return data.not_iso; }
    var units = ["Y", "M", "W", "D", "H", "Mi", "S"], parts = [];
    units.forEach(function (unit, index) { if (match[index + 1]) { parts.push(match[index + 1] + " " + data.units[unit]); } });
    return parts.join(" ");
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
