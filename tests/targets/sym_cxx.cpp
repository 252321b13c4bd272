/*
 * sym_cxx.cpp — C++ functions whose names the symbolizer must demangle
 *
 * tests/unit/test_sym.c finds these by their mangled symbols and expects:
 *   _ZNK6sym_ns3BoxIiE3getEv     -> "sym_ns::Box<int>::get() const"
 *   sym_ns::inner::Widget ctor   -> "sym_ns::inner::Widget::Widget(int)"
 *   sym_ns::inner::twice<long>   -> "long sym_ns::inner::twice<long>(long)"
 *   inside sym_ns::use_peek: the inlined frame "sym_ns::Box<int>::peek() const"
 *   at the peek_body line, then "sym_ns::use_peek(sym_ns::Box<int> const&)"
 *   at the peek_call line
 *
 * SPDX-License-Identifier: MIT
 */
namespace sym_ns
{

template <typename T> struct Box {
    T value;
    __attribute__((noinline)) T get() const
    {
        return value;
    }
    __attribute__((always_inline)) inline T peek() const
    {
        return value + 1; /* SYM_MARK peek_body */
    }
};
template struct Box<int>;

__attribute__((noinline)) int use_peek(const Box<int> &box)
{
    return box.peek() * 2; /* SYM_MARK peek_call */
}

namespace inner
{
class Widget
{
  public:
    __attribute__((noinline)) explicit Widget(int size);
    int size_;
};

Widget::Widget(int size) : size_(size) {}

template <typename T> __attribute__((noinline)) T twice(T x)
{
    return x * 2;
}
template long twice<long>(long);
} // namespace inner
} // namespace sym_ns

int main(int argc, char **)
{
    sym_ns::Box<int> box{argc};
    sym_ns::inner::Widget widget(box.get() + sym_ns::use_peek(box) * 0);
    return (int)sym_ns::inner::twice<long>(widget.size_) == 2 * argc ? 0 : 1;
}
