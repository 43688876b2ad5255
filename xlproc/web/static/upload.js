// Drag-and-drop for the upload form, and an early word on the file's type and size.
// The file is sent all the same: the server keeps every file handed in and gives the
// same Chinese message. Without JavaScript the file chooser and button work alike.
(function () {
  "use strict";
  document.querySelectorAll("form.upload").forEach(function (form) {
    var zone = form.querySelector(".drop");
    var input = form.querySelector("input[type=file]");
    var message = form.querySelector(".client-error");
    var max = parseInt(form.getAttribute("data-max"), 10) || 0;
    function problem(file) {
      if (!/\.xlsx$/i.test(file.name)) return "只接受 .xlsx 格式的工作簿：“" + file.name + "”不是 .xlsx 文件。请在 Excel 或 WPS 中另存为 .xlsx 后再上传。";
      if (max && file.size > max) return "文件“" + file.name + "”过大（" + (file.size / 1048576).toFixed(2) + " MB），上限为 " + (max / 1048576).toFixed(2) + " MB。";
      return "";
    }
    function show(text) { message.textContent = text; message.hidden = !text; }
    ["dragenter", "dragover"].forEach(function (ev) {
      zone.addEventListener(ev, function (e) { e.preventDefault(); zone.classList.add("over"); });
    });
    ["dragleave", "drop"].forEach(function (ev) {
      zone.addEventListener(ev, function (e) { e.preventDefault(); zone.classList.remove("over"); });
    });
    zone.addEventListener("drop", function (e) {
      var files = e.dataTransfer && e.dataTransfer.files;
      if (!files || !files.length) return;
      show(problem(files[0]));
      input.files = files;
      input.dispatchEvent(new Event("change"));
      form.requestSubmit ? form.requestSubmit() : form.submit();
    });
    input.addEventListener("change", function () { show(input.files.length ? problem(input.files[0]) : ""); });
    form.addEventListener("submit", function (e) {
      var file = input.files[0];
      if (!file) { show("请选择要上传的 .xlsx 工作簿"); e.preventDefault(); return; }
      show(problem(file));
      var button = form.querySelector("button[type=submit]");
      if (button) { button.disabled = true; button.textContent = "正在上传并审核…"; }
    });
  });
})();
