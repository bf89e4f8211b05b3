#include "gitfed/git/error.h"

namespace gitfed::git {

const char* toString(ErrorCode code) {
  switch (code) {
    case ErrorCode::InvalidArgument: return "InvalidArgument";
    case ErrorCode::NotFound: return "NotFound";
    case ErrorCode::Auth: return "Auth";
    case ErrorCode::Certificate: return "Certificate";
    case ErrorCode::HostKey: return "HostKey";
    case ErrorCode::Network: return "Network";
    case ErrorCode::Timeout: return "Timeout";
    case ErrorCode::Rejected: return "Rejected";
    case ErrorCode::Corrupt: return "Corrupt";
    case ErrorCode::Io: return "Io";
    case ErrorCode::Internal: return "Internal";
  }
  return "?";
}

}  // namespace gitfed::git
