// Entry point for a firmware project's common core (edgecnn_classifier.cc) on an emulated Cortex-M: its
// self-test, printed as the ESP-IDF project prints it. Exit status 0 on PASS, 1 on FAIL, 2 when it could not run.
#include <stdio.h>

#include "edgecnn_classifier.h"
#include "test_input.h"

int main() {
  if (EdgecnnSetup() != 0) {
    printf("edgecnn: setup failed\n");
    return 2;
  }
  EdgecnnSelfTest test;
  if (EdgecnnRunSelfTest(&test) != 0) {
    printf("edgecnn: self-test could not run\n");
    return 2;
  }
  printf("edgecnn: self-test: top label %s (%d/1000)%s%s; ", test.result.label, test.result.score_permille,
         kTestInputLabel[0] != '\0' ? ", labelled " : "", kTestInputLabel);
  if (test.differing_bytes < 0) {
    printf("no expected output to compare with\n");
    return 1;
  }
  if (test.passed) {
    printf("output equals edgecnn's on the PC bit for bit (%d bytes): PASS\n", test.output_bytes);
    return 0;
  }
  printf("%d of %d output bytes differ from edgecnn's on the PC (first at byte %d): FAIL\n", test.differing_bytes,
         test.output_bytes, test.first_difference);
  return 1;
}
