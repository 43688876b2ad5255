// The file chooser's line: the chosen file's name and size (without JavaScript, CSS says
// 未选择文件 / 已选择文件). See templates/_file.html.
(function () {
  "use strict";
  document.querySelectorAll(".picker").forEach(function (picker) {
    var input = picker.querySelector("input[type=file]");
    var line = picker.querySelector(".chosen");
    function update() {
      var file = input.files && input.files[0];
      line.textContent = file ? "已选择：" + file.name + "（" + (file.size / 1024).toFixed(1) + " KB）" : "未选择文件";
      line.classList.toggle("has-file", !!file);
    }
    input.addEventListener("change", update);
    var form = picker.closest("form");
    if (form) form.addEventListener("reset", function () { setTimeout(update, 0); });
    if (input.files && input.files.length) update();  // a file kept by the browser on "back"
  });
})();
