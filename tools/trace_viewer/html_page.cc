#include "tools/trace_viewer/html_page.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "tools/trace_viewer/viewer_assets.h"

namespace crema::trace_viewer {
namespace {

std::string EscapeHtml(const std::string& text) {
  return absl::StrReplaceAll(text, {{"&", "&amp;"}, {"<", "&lt;"}, {">", "&gt;"}, {"\"", "&quot;"}});
}

}  // namespace

std::string RenderHtml(const RunModel& model) {
  // Inside <script>, "</" would end the element early: JSON allows the escape "<\/".
  const std::string json = absl::StrReplaceAll(ModelJson(model), {{"</", "<\\/"}});
  return absl::StrCat(
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n",
      "<title>Crema run: ", EscapeHtml(model.title), "</title>\n<style>\n", kViewerCss,
      "</style>\n</head>\n<body>\n<header>\n<h1 id=\"title\"></h1>\n<div class=\"row\">\n",
      "<fieldset><legend>time window (ms)</legend>",
      "<input id=\"from\" type=\"number\" step=\"any\"> to <input id=\"to\" type=\"number\" "
      "step=\"any\"> <button id=\"apply\">zoom</button> <button id=\"reset\">all</button>"
      "</fieldset>\n",
      "<fieldset><legend>nodes</legend><span id=\"nodes\"></span></fieldset>\n",
      "<fieldset><legend>services</legend><span id=\"services\"></span></fieldset>\n",
      "<fieldset><legend>layers</legend><span id=\"layers\"></span></fieldset>\n",
      "</div>\n<div class=\"row\" id=\"legend\">",
      "<span><i style=\"background:rgba(220,60,60,.4)\"></i>down</span>",
      "<span><i style=\"background:rgba(245,150,20,.5)\"></i>paused</span>",
      "<span><i style=\"background:rgba(66,110,220,.45)\"></i>partition</span>",
      "<span><i style=\"background:rgba(140,90,40,.7)\"></i>clogged link</span>",
      "<span><i style=\"background:#2e9d4a\"></i>leader</span>",
      "<span><i style=\"background:#e0b400\"></i>candidate</span>",
      "<span><i style=\"background:#8e2bd6\"></i>clock step</span>",
      "<span><i style=\"background:rgba(60,170,90,.6)\"></i>operation</span>",
      "<span><i style=\"background:rgba(255,160,40,.6)\"></i>indeterminate</span>",
      "<span><i style=\"background:#d00\"></i>failing oracle</span>",
      "<span>wheel: zoom · drag: pan · double-click: all</span>",
      "<span class=\"error\" id=\"err\"></span></div>\n</header>\n",
      "<div id=\"canvas-box\"><canvas id=\"canvas\"></canvas><div id=\"tip\"></div></div>\n",
      "<script id=\"model\" type=\"application/json\">", json, "</script>\n<script>\n", kViewerJs,
      "</script>\n</body>\n</html>\n");
}

}  // namespace crema::trace_viewer
