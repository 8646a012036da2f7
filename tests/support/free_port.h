// Free TCP ports on 127.0.0.1 for servers that tests start (fake platforms, redis-server, the bot).
#pragma once

namespace nivaran::testing {

// A port that was free on 127.0.0.1 a moment ago: bound to port 0, read back, closed. Another
// process may take it before the caller binds, so callers retry with a new port on collision.
// Throws std::runtime_error when no socket can be bound at all.
int pick_free_loopback_port();

}  // namespace nivaran::testing
