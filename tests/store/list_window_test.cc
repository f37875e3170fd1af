// ListWindow: the names a List scan keeps for the following pages (store/list_window.h).
#include "store/list_window.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace ds::store {
namespace {

using Names = std::vector<std::string>;

// Serves a page or reports that the window cannot.
struct Page {
  bool served = false;
  Names names;
  bool more = false;
};
Page Serve(ListWindow& window, std::string_view prefix, std::string_view after, size_t count) {
  Page page;
  page.served = window.TryServe(prefix, after, count, &page.names, &page.more);
  return page;
}

TEST(ListWindowTest, NothingIsServedWithoutAWindow) {
  ListWindow window;
  EXPECT_FALSE(Serve(window, "", "", 10).served);
}

TEST(ListWindowTest, CompleteWindowServesEveryPageToTheEnd) {
  ListWindow window;
  window.BeginScan();
  window.Install("k", "", {"ka", "kb", "kc"}, /*complete=*/true);
  Page first = Serve(window, "k", "", 2);
  ASSERT_TRUE(first.served);
  EXPECT_EQ(first.names, (Names{"ka", "kb"}));
  EXPECT_TRUE(first.more);
  Page last = Serve(window, "k", "kb", 2);
  ASSERT_TRUE(last.served);
  EXPECT_EQ(last.names, (Names{"kc"}));
  EXPECT_FALSE(last.more);
  Page exact = Serve(window, "k", "ka", 2);
  ASSERT_TRUE(exact.served);
  EXPECT_EQ(exact.names, (Names{"kb", "kc"}));
  EXPECT_FALSE(exact.more);
}

TEST(ListWindowTest, PartialWindowServesOnlyPagesItCanFill) {
  ListWindow window;
  window.BeginScan();
  window.Install("", "", {"a", "b", "c"}, /*complete=*/false);  // names after "c" unknown
  Page page = Serve(window, "", "", 2);
  ASSERT_TRUE(page.served);
  EXPECT_EQ(page.names, (Names{"a", "b"}));
  EXPECT_TRUE(page.more);
  // From "a": b, c and then the unknown: cannot tell whether more follow, so not served.
  EXPECT_FALSE(Serve(window, "", "a", 2).served);
  EXPECT_FALSE(Serve(window, "", "c", 1).served);
}

TEST(ListWindowTest, OtherPrefixesAndEarlierStartsAreNotServed) {
  ListWindow window;
  window.BeginScan();
  window.Install("k", "kb", {"kc", "kd"}, /*complete=*/true);
  EXPECT_FALSE(Serve(window, "j", "kb", 1).served);
  EXPECT_FALSE(Serve(window, "k", "", 1).served);  // the window starts after "kb"
  EXPECT_FALSE(Serve(window, "k", "ka", 1).served);
  EXPECT_TRUE(Serve(window, "k", "kb", 1).served);
  EXPECT_TRUE(Serve(window, "k", "kc", 1).served);
}

TEST(ListWindowTest, NotesKeepTheWindowExact) {
  ListWindow window;
  window.BeginScan();
  window.Install("k", "", {"kb", "kd", "kf", "kh"}, /*complete=*/false);
  window.NoteCreated("kc");
  window.NoteCreated("kz");  // beyond the window's last name: not its business
  window.NoteCreated("ja");  // another prefix
  window.NoteDeleted("kd");
  window.NoteCreated("kb");  // an overwrite: already present
  Page page = Serve(window, "k", "", 3);
  ASSERT_TRUE(page.served);
  EXPECT_EQ(page.names, (Names{"kb", "kc", "kf"}));
  EXPECT_TRUE(page.more);
  // After "kf" the window knows only "kh", not whether "kz" (or anything) follows it.
  EXPECT_FALSE(Serve(window, "k", "kf", 1).served);
}

TEST(ListWindowTest, NotesDuringAScanAreReplayedOntoItsResult) {
  ListWindow window;
  window.BeginScan();
  // While the scan reads the directories: the scan misses "b" (created after it passed),
  // sees "c" (deleted before it finished), and sees "d" which is deleted and created again.
  window.NoteCreated("b");
  window.NoteDeleted("c");
  window.NoteDeleted("d");
  window.NoteCreated("d");
  window.NoteCreated("e");
  window.NoteDeleted("e");
  window.Install("", "", {"a", "c", "d"}, /*complete=*/true);
  Page page = Serve(window, "", "", 10);
  ASSERT_TRUE(page.served);
  EXPECT_EQ(page.names, (Names{"a", "b", "d"}));
}

TEST(ListWindowTest, NotesQueuedForAnAbortedScanAreDropped) {
  ListWindow window;
  window.BeginScan();
  window.NoteCreated("x");
  window.AbortScan();
  window.BeginScan();
  window.Install("", "", {"a"}, /*complete=*/true);
  Page page = Serve(window, "", "", 10);
  ASSERT_TRUE(page.served);
  EXPECT_EQ(page.names, (Names{"a"}));
}

TEST(ListWindowTest, ClearDropsTheWindow) {
  ListWindow window;
  window.BeginScan();
  window.Install("", "", {"a"}, /*complete=*/true);
  window.Clear();
  EXPECT_FALSE(Serve(window, "", "", 10).served);
}

}  // namespace
}  // namespace ds::store
