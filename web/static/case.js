// The case page's diagrams: each pinned BPMN file drawn by the bpmn-js viewer (web/static/vendor),
// with the engine's marks: completed elements, the flows between them, current tasks, incidents.
(function () {
  var data = JSON.parse(document.getElementById("diagrams-data").textContent);
  data.forEach(function (diagram, index) {
    var container = document.getElementById("diagram-" + index);
    var viewer = new BpmnJS({ container: container });
    viewer.importXML(diagram.xml).then(function () {
      var canvas = viewer.get("canvas");
      var registry = viewer.get("elementRegistry");
      var done = {}, now = {}, taken = {};
      Object.keys(diagram.marks).forEach(function (process) {
        var marks = diagram.marks[process] || {};
        (marks.completed || []).forEach(function (id) { done[id] = true; });
        (marks.current || []).forEach(function (id) { now[id] = true; });
        (marks.incident || []).forEach(function (id) { now[id] = true; mark(id, "lf-incident"); });
        (marks.taken || []).forEach(function (pair) { taken[pair[0] + ">" + pair[1]] = true; });
      });
      function mark(id, marker) { if (registry.get(id)) { canvas.addMarker(id, marker); } }
      Object.keys(done).forEach(function (id) { mark(id, "lf-completed"); });
      Object.keys(now).forEach(function (id) { mark(id, "lf-current"); });
      // A flow was taken when the engine went from its source to its target (the task tree's
      // parent and child): where two paths meet, only the one taken is marked.
      registry.filter(function (e) { return e.type === "bpmn:SequenceFlow"; }).forEach(function (flow) {
        var source = flow.businessObject.sourceRef, target = flow.businessObject.targetRef;
        if (source && target && taken[source.id + ">" + target.id]) {
          canvas.addMarker(flow.id, "lf-taken");
        }
      });
      // A wide pool with many lanes gets the height its shape needs, so its labels stay readable.
      var inner = canvas.viewbox().inner;
      if (inner.width > 0) {
        var height = Math.round(inner.height * (container.clientWidth - 40) / inner.width) + 40;
        container.style.height = Math.max(240, Math.min(height, 900)) + "px";
        canvas.resized();
      }
      canvas.zoom("fit-viewport");
      container.setAttribute("data-rendered", "true");
    }).catch(function (err) {
      container.setAttribute("data-rendered", "failed");
      document.getElementById("diagram-problem").hidden = false;
      console.error(err);
    });
  });
})();
