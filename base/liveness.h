// Liveness: lets a callback that captured `this` find out whether its
// object still exists before touching it. The object owns a Liveness; each
// callback captures a Token; destroying the object (and so its Liveness)
// makes every token report false.
//
//   class Fetcher {
//     void Start() {
//       loop_->Post([this, token = liveness_.token()] {
//         if (!token.alive()) return;  // the Fetcher is gone
//         OnReady();
//       });
//     }
//     bt::Liveness liveness_;
//   };
//
// token() may be called, and tokens copied and destroyed, on any thread
// while the Liveness exists; alive() is only meaningful on the thread that
// destroys the owner (elsewhere the owner may die right after the check).
#ifndef BASE_LIVENESS_H_
#define BASE_LIVENESS_H_

#include <memory>

namespace bt {

class Liveness {
 public:
  // Token is a weak reference to a Liveness.
  class Token {
   public:
    // alive is true while the Liveness that made this token exists.
    bool alive() const { return !flag_.expired(); }

   private:
    friend class Liveness;
    explicit Token(std::weak_ptr<const char> flag) : flag_(std::move(flag)) {}
    std::weak_ptr<const char> flag_;
  };

  Liveness() = default;
  // Not copyable or movable: a token belongs to one object's lifetime.
  Liveness(const Liveness&) = delete;
  Liveness& operator=(const Liveness&) = delete;

  // token returns a Token that stays alive as long as this Liveness.
  Token token() const { return Token(flag_); }

 private:
  std::shared_ptr<const char> flag_ = std::make_shared<const char>(0);
};

}  // namespace bt

#endif  // BASE_LIVENESS_H_
