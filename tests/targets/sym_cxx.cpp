/*
 * sym_cxx.cpp — C++ functions whose names the symbolizer must demangle
 *
 * tests/unit/test_sym.c finds these by their mangled symbols and expects:
 *   _ZNK6sym_ns3BoxIiE3getEv     -> "sym_ns::Box<int>::get() const"
 *   sym_ns::inner::Widget ctor   -> "sym_ns::inner::Widget::Widget(int)"
 *   sym_ns::inner::twice<long>   -> "long sym_ns::inner::twice<long>(long)"
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
};
template struct Box<int>;

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
    sym_ns::inner::Widget widget(box.get());
    return (int)sym_ns::inner::twice<long>(widget.size_) == 2 * argc ? 0 : 1;
}
