// Overloaded builds one visitor for std::visit from several lambdas:
//
//   std::visit(bt::Overloaded{[](const Have& h) { ... },
//                             [](const auto&) { ... }},
//              message);
#ifndef BASE_OVERLOADED_H_
#define BASE_OVERLOADED_H_

namespace bt {

template <class... Ts>
struct Overloaded : Ts... {
  using Ts::operator()...;
};
template <class... Ts>
Overloaded(Ts...) -> Overloaded<Ts...>;

}  // namespace bt

#endif  // BASE_OVERLOADED_H_
