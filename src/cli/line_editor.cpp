// LineEditor (line_editor.hpp): libedit's EditLine and History.
#include "cli/line_editor.hpp"

#include <histedit.h>

#include <cerrno>
#include <cstdio>

#include "lmgen/error.hpp"

namespace lmgen::cli {

namespace {
char* editline_prompt(EditLine*) {
  static char text[] = "> ";
  return text;
}
}  // namespace

LineEditor::LineEditor(const char* program) {
  el_ = el_init(program, stdin, stdout, stderr);
  hist_ = history_init();
  if (!el_ || !hist_) throw Error("chat: cannot set up line editing at this terminal");
  HistEvent ev;
  history(hist_, &ev, H_SETSIZE, 1000);
  el_set(el_, EL_EDITOR, "emacs");
  el_set(el_, EL_SIGNAL, 1);  // the terminal is restored before Ctrl-C reaches lmgen's handler
  el_set(el_, EL_PROMPT, editline_prompt);
  el_set(el_, EL_HIST, history, hist_);
  el_source(el_, nullptr);  // ~/.editrc, as before
}

LineEditor::~LineEditor() {
  if (el_) el_end(el_);
  if (hist_) history_end(hist_);
}

LineEditor::Read LineEditor::read(std::string& line) {
  int count = 0;
  errno = 0;
  const char* s = el_gets(el_, &count);
  if (!s) return count < 0 && errno == EINTR ? Read::Interrupted : Read::End;
  line.assign(s, static_cast<size_t>(count));
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
  return Read::Line;
}

void LineEditor::remember(const std::string& line) {
  HistEvent ev;
  history(hist_, &ev, H_ENTER, line.c_str());
}

}  // namespace lmgen::cli
