// IntrusiveList: a circular doubly-linked list whose links live inside the elements.
//
// Used by the cache for its access-order queues (window, probation, protected) and the timer
// wheel's buckets: moving an element to the back, or unlinking it, is O(1) and never allocates.
// An element type derives from `ListHook<Tag>` once per list it can be on (distinct tags let one
// entry sit on an access queue and a timer bucket at the same time).
//
// Invariants: a hook is either unlinked (prev == next == nullptr) or on exactly one list. The list
// does not own its elements; removing the element from the list before destroying it is the
// owner's job (asserted in debug builds by ~ListHook).
//
// Thread safety: none (owned by one event loop, like the cache).
#ifndef CREMA_CACHE_INTRUSIVE_LIST_H_
#define CREMA_CACHE_INTRUSIVE_LIST_H_

#include <cassert>
#include <cstddef>

namespace crema::cache {

template <typename Tag>
struct ListHook {
  ListHook() = default;
  ListHook(const ListHook&) = delete;
  ListHook& operator=(const ListHook&) = delete;
  ~ListHook() { assert(!linked()); }

  bool linked() const { return next != nullptr; }

  ListHook* prev = nullptr;
  ListHook* next = nullptr;
};

// T must derive from ListHook<Tag>.
template <typename T, typename Tag>
class IntrusiveList {
 public:
  using Hook = ListHook<Tag>;

  IntrusiveList() { head_.prev = head_.next = &head_; }
  IntrusiveList(const IntrusiveList&) = delete;
  IntrusiveList& operator=(const IntrusiveList&) = delete;
  ~IntrusiveList() {
    assert(empty());
    head_.prev = head_.next = nullptr;  // Keeps ~ListHook's assertion quiet for the sentinel.
  }

  bool empty() const { return head_.next == &head_; }

  // The least recently pushed element, or nullptr.
  T* front() const { return empty() ? nullptr : Element(head_.next); }
  // The most recently pushed element, or nullptr.
  T* back() const { return empty() ? nullptr : Element(head_.prev); }
  // The element after `t` towards the back, or nullptr. REQUIRES: t is on this list.
  T* next(T* t) const {
    Hook* h = static_cast<Hook*>(t)->next;
    return h == &head_ ? nullptr : Element(h);
  }

  // REQUIRES: t is on no list of this tag.
  void push_back(T* t) {
    Hook* h = static_cast<Hook*>(t);
    assert(!h->linked());
    h->prev = head_.prev;
    h->next = &head_;
    head_.prev->next = h;
    head_.prev = h;
  }

  // REQUIRES: t is on no list of this tag.
  void push_front(T* t) {
    Hook* h = static_cast<Hook*>(t);
    assert(!h->linked());
    h->next = head_.next;
    h->prev = &head_;
    head_.next->prev = h;
    head_.next = h;
  }

  // `now` takes `old`'s place; `old` ends up unlinked. REQUIRES: old is on this list, now on none.
  void replace(T* old, T* now) { ReplaceHook(static_cast<Hook*>(old), static_cast<Hook*>(now)); }

  // The same, for a hook on any list of this tag (the list itself is not needed).
  static void ReplaceHook(Hook* old, Hook* now) {
    assert(old->linked() && !now->linked());
    now->prev = old->prev;
    now->next = old->next;
    now->prev->next = now;
    now->next->prev = now;
    old->prev = old->next = nullptr;
  }

  // REQUIRES: t is on this list.
  void remove(T* t) {
    Hook* h = static_cast<Hook*>(t);
    assert(h->linked());
    h->prev->next = h->next;
    h->next->prev = h->prev;
    h->prev = h->next = nullptr;
  }

  // REQUIRES: t is on this list.
  void move_to_back(T* t) {
    Hook* h = static_cast<Hook*>(t);
    if (head_.prev == h) return;
    remove(t);
    push_back(t);
  }

  // Removes and returns the front element, or nullptr when empty.
  T* pop_front() {
    T* t = front();
    if (t != nullptr) remove(t);
    return t;
  }

  // True if `hook` is this list's sentinel (for walking a list from one of its elements).
  bool IsSentinel(const Hook* hook) const { return hook == &head_; }

  // Moves every element of `other` to the back of this list, keeping their order.
  void splice_back(IntrusiveList& other) {
    if (other.empty()) return;
    Hook* first = other.head_.next;
    Hook* last = other.head_.prev;
    other.head_.prev = other.head_.next = &other.head_;
    first->prev = head_.prev;
    head_.prev->next = first;
    last->next = &head_;
    head_.prev = last;
  }

 private:
  static T* Element(Hook* h) { return static_cast<T*>(h); }
  static T* Element(const Hook* h) { return static_cast<T*>(const_cast<Hook*>(h)); }

  Hook head_;  // Sentinel.
};

}  // namespace crema::cache

#endif  // CREMA_CACHE_INTRUSIVE_LIST_H_
