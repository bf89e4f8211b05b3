// Health per kind, from the status the controllers write.

#include <catch2/catch.hpp>

#include "gitfed/sync/health.h"

using namespace gitfed::sync;
using nlohmann::json;

namespace {
Health h(const std::string& text) { return assessHealth(json::parse(text)).health; }
}  // namespace

TEST_CASE("Deployment rollout", "[sync][health]") {
  CHECK(h(R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"generation":2},"spec":{"replicas":2},
             "status":{"observedGeneration":2,"replicas":2,"updatedReplicas":2,"availableReplicas":2}})") == Health::Healthy);
  CHECK(h(R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"generation":3},"spec":{"replicas":2},
             "status":{"observedGeneration":2,"replicas":2,"updatedReplicas":2,"availableReplicas":2}})") == Health::Progressing);
  CHECK(h(R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"generation":1},"spec":{"replicas":2},
             "status":{"observedGeneration":1,"replicas":3,"updatedReplicas":2,"availableReplicas":2}})") == Health::Progressing);
  CHECK(h(R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"generation":1},"spec":{"replicas":2},
             "status":{"observedGeneration":1,"replicas":2,"updatedReplicas":2,"availableReplicas":1}})") == Health::Progressing);
  CHECK(h(R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"generation":1},"spec":{},"status":{}})") == Health::Progressing);
  CHECK(h(R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"generation":1},"spec":{"replicas":2},
             "status":{"observedGeneration":1,"updatedReplicas":1,
                       "conditions":[{"type":"Progressing","status":"False","reason":"ProgressDeadlineExceeded"}]}})") == Health::Degraded);
  CHECK(h(R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"generation":1},"spec":{"replicas":0},
             "status":{"observedGeneration":1}})") == Health::Healthy);
}

TEST_CASE("StatefulSet and DaemonSet rollout", "[sync][health]") {
  CHECK(h(R"({"apiVersion":"apps/v1","kind":"StatefulSet","metadata":{"generation":1},"spec":{"replicas":2},
             "status":{"observedGeneration":1,"readyReplicas":2,"currentRevision":"a","updateRevision":"a"}})") == Health::Healthy);
  CHECK(h(R"({"apiVersion":"apps/v1","kind":"StatefulSet","metadata":{"generation":1},"spec":{"replicas":2},
             "status":{"observedGeneration":1,"readyReplicas":2,"currentRevision":"a","updateRevision":"b"}})") == Health::Progressing);
  CHECK(h(R"({"apiVersion":"apps/v1","kind":"StatefulSet","metadata":{"generation":1},"spec":{"replicas":2},
             "status":{"observedGeneration":1,"readyReplicas":1}})") == Health::Progressing);
  CHECK(h(R"({"apiVersion":"apps/v1","kind":"DaemonSet","metadata":{"generation":1},
             "status":{"observedGeneration":1,"desiredNumberScheduled":3,"updatedNumberScheduled":3,"numberAvailable":3}})") == Health::Healthy);
  CHECK(h(R"({"apiVersion":"apps/v1","kind":"DaemonSet","metadata":{"generation":1},
             "status":{"observedGeneration":1,"desiredNumberScheduled":3,"updatedNumberScheduled":3,"numberAvailable":2}})") == Health::Progressing);
}

TEST_CASE("Job, CRD, Namespace, PVC, Pod, Service", "[sync][health]") {
  CHECK(h(R"({"apiVersion":"batch/v1","kind":"Job","status":{"conditions":[{"type":"Complete","status":"True"}]}})") == Health::Healthy);
  CHECK(h(R"({"apiVersion":"batch/v1","kind":"Job","status":{"conditions":[{"type":"Failed","status":"True","reason":"BackoffLimitExceeded"}]}})") == Health::Degraded);
  CHECK(h(R"({"apiVersion":"batch/v1","kind":"Job","status":{"active":1}})") == Health::Progressing);
  CHECK(h(R"({"apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition",
             "status":{"conditions":[{"type":"NamesAccepted","status":"True"},{"type":"Established","status":"True"}]}})") == Health::Healthy);
  CHECK(h(R"({"apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition","status":{}})") == Health::Progressing);
  CHECK(h(R"({"apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition",
             "status":{"conditions":[{"type":"NamesAccepted","status":"False","reason":"NameConflict"}]}})") == Health::Degraded);
  CHECK(h(R"({"apiVersion":"v1","kind":"Namespace","status":{"phase":"Active"}})") == Health::Healthy);
  CHECK(h(R"({"apiVersion":"v1","kind":"Namespace","metadata":{"deletionTimestamp":"x"},"status":{"phase":"Terminating"}})") == Health::Degraded);
  CHECK(h(R"({"apiVersion":"v1","kind":"PersistentVolumeClaim","status":{"phase":"Bound"}})") == Health::Healthy);
  CHECK(h(R"({"apiVersion":"v1","kind":"PersistentVolumeClaim","status":{"phase":"Pending"}})") == Health::Progressing);
  CHECK(h(R"({"apiVersion":"v1","kind":"PersistentVolumeClaim","status":{"phase":"Lost"}})") == Health::Degraded);
  CHECK(h(R"({"apiVersion":"v1","kind":"Pod","status":{"phase":"Running","conditions":[{"type":"Ready","status":"True"}]}})") == Health::Healthy);
  CHECK(h(R"({"apiVersion":"v1","kind":"Pod","status":{"phase":"Pending"}})") == Health::Progressing);
  CHECK(h(R"({"apiVersion":"v1","kind":"Service","spec":{"type":"ClusterIP"}})") == Health::Healthy);
  CHECK(h(R"({"apiVersion":"v1","kind":"Service","spec":{"type":"LoadBalancer"},"status":{}})") == Health::Progressing);
}

TEST_CASE("generic Ready/Available conditions; no status is Healthy", "[sync][health]") {
  CHECK(h(R"({"apiVersion":"v1","kind":"ConfigMap","data":{}})") == Health::Healthy);
  CHECK(h(R"({"apiVersion":"example.com/v1","kind":"Widget","status":{"conditions":[{"type":"Ready","status":"True"}]}})") == Health::Healthy);
  CHECK(h(R"({"apiVersion":"example.com/v1","kind":"Widget","status":{"conditions":[{"type":"Ready","status":"False","message":"broken"}]}})") == Health::Degraded);
  CHECK(h(R"({"apiVersion":"example.com/v1","kind":"Widget","status":{"conditions":[{"type":"Available","status":"Unknown"}]}})") == Health::Progressing);
  CHECK(h(R"({"apiVersion":"example.com/v1","kind":"Widget","metadata":{"generation":2},"status":{"observedGeneration":1,
             "conditions":[{"type":"Ready","status":"True"}]}})") == Health::Progressing);
  auto r = assessHealth(json::parse(R"({"apiVersion":"example.com/v1","kind":"Widget","status":{"conditions":[{"type":"Ready","status":"False","reason":"Oops","message":"broken"}]}})"));
  CHECK(r.message == "Ready=False (Oops): broken");
}
