// Prints the /metrics text of a fresh AgentMetrics: every family the agent
// registers, as `gitfed agent` serves them before its first round. The
// metrics reference test (metrics_reference_test.py) reads it.

#include <iostream>

#include "gitfed/daemon/agent.h"

int main() {
  gitfed::daemon::AgentMetrics metrics;
  std::cout << metrics.registry.render();
  return 0;
}
