// Line editing for `lmgen chat` at a terminal (history, emacs keys; ~/.editrc is read), with libedit's own
// interface (histedit.h). Not its readline emulation: that part of libedit (readline.o, and filecomplete.o for
// tab-completion of file names, which chat does not offer) calls getpwnam_r / getpwuid / getpwent, and in the
// static lmgen glibc then warns at link time that those need its shared NSS libraries at run time.
#pragma once

#include <string>

struct editline;
struct history;

namespace lmgen::cli {

class LineEditor {
 public:
  enum class Read { Line, Interrupted, End };  // a line; Ctrl-C at the prompt; Ctrl-D or end of input

  explicit LineEditor(const char* program);
  ~LineEditor();
  LineEditor(const LineEditor&) = delete;
  LineEditor& operator=(const LineEditor&) = delete;

  // Shows "> " and reads one line (without its newline).
  Read read(std::string& line);
  // Adds a line to the history (the up arrow brings it back).
  void remember(const std::string& line);

 private:
  editline* el_ = nullptr;
  history* hist_ = nullptr;
};

}  // namespace lmgen::cli
