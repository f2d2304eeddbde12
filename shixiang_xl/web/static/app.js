// 实事通 pages: progress of long work, drag-and-drop uploads, confirmations. No libraries, nothing from outside.
"use strict";
(function () {
  function csrf() { var m = document.querySelector('meta[name="csrf-token"]'); return m ? m.content : ""; }

  // Long work: poll the job and move the progress bar; go on when it is done.
  function pollJob(el) {
    var bar = document.getElementById("job-progress"), text = document.getElementById("job-text");
    var err = document.getElementById("job-error"), next = document.getElementById("job-next");
    function tick() {
      fetch(el.dataset.url, { credentials: "same-origin", headers: { "X-CSRF-Token": csrf() } })
        .then(function (r) { return r.json(); })
        .then(function (j) {
          bar.max = Math.max(j.total, j.done, 1); bar.value = j.done;
          if (j.state === "done") { text.textContent = "已完成"; window.location.href = j.next; return; }
          if (j.state === "failed") { text.textContent = "未完成"; err.textContent = j.error; err.hidden = false; next.hidden = false; return; }
          text.textContent = "正在处理：" + j.done + (j.total ? "/" + j.total : "");
          setTimeout(tick, 400);
        })
        .catch(function () { setTimeout(tick, 1000); });
    }
    tick();
  }

  // Drag files onto a drop zone: they become the form's chosen files.
  function dropzone(zone) {
    var input = zone.querySelector('input[type="file"]'), shown = zone.querySelector(".chosen");
    function show() {
      if (!shown) return;
      var names = Array.prototype.map.call(input.files, function (f) { return f.name; });
      shown.textContent = names.length ? "已选择 " + names.length + " 个文件：" + names.join("、") : "";
    }
    zone.addEventListener("dragover", function (e) { e.preventDefault(); zone.classList.add("over"); });
    zone.addEventListener("dragleave", function () { zone.classList.remove("over"); });
    zone.addEventListener("drop", function (e) {
      e.preventDefault(); zone.classList.remove("over");
      input.files = e.dataTransfer.files; show();
    });
    input.addEventListener("change", show);
    // Each file's own time goes with it: a return saved on the clerk's computer days ago was received then.
    var times = zone.querySelector("input.mtimes") || (zone.form || zone.closest("form")).querySelector("input.mtimes");
    if (times) zone.closest("form").addEventListener("submit", function () {
      times.value = JSON.stringify(Array.prototype.map.call(input.files, function (f) { return f.lastModified; }));
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var job = document.getElementById("job");
    if (job) pollJob(job);
    Array.prototype.forEach.call(document.querySelectorAll(".dropzone"), dropzone);
    Array.prototype.forEach.call(document.querySelectorAll("select.autosubmit"), function (s) {
      s.addEventListener("change", function () { s.form.submit(); });
    });
    Array.prototype.forEach.call(document.querySelectorAll(".confirm"), function (b) {
      b.addEventListener("click", function (e) { if (!window.confirm(b.dataset.confirm)) e.preventDefault(); });
    });
  });
})();
