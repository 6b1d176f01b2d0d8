// Arduino entry point: run the self-test on the bundled test input, print the result over Serial.
// The Nano 33 BLE Sense has no camera of its own; the test input lets the board check itself.
#include <Arduino.h>

#include "model_settings.h"
#ifndef EDGECNN_ENGINE_C
#include <TensorFlowLite.h>  // makes the Arduino IDE pick the Arduino_TensorFlowLite library
#endif

#include "edgecnn_classifier.h"
#include "test_input.h"

namespace {
bool ready = false;

void PrintSelfTest(const EdgecnnSelfTest& test) {
  Serial.print("edgecnn: self-test: top label ");
  Serial.print(test.result.label);
  Serial.print(" (");
  Serial.print(test.result.score_permille);
  Serial.print("/1000)");
  if (kTestInputLabel[0] != '\0') {
    Serial.print(", labelled ");
    Serial.print(kTestInputLabel);
  }
  if (test.differing_bytes < 0) {
    Serial.println("; no expected output to compare with");
  } else if (test.passed) {
    Serial.println("; output equals edgecnn's on the PC bit for bit: PASS");
  } else {
    Serial.print("; ");
    Serial.print(test.differing_bytes);
    Serial.print(" of ");
    Serial.print(test.output_bytes);
    Serial.println(" output bytes differ from edgecnn's on the PC: FAIL");
  }
}
}  // namespace

void setup() {
  Serial.begin(115200);
  while (!Serial && millis() < 5000) {
  }
  ready = EdgecnnSetup() == 0;
  if (!ready) {
    Serial.println("edgecnn: setup failed");
  }
}

void loop() {
  if (ready) {
    EdgecnnSelfTest test;
    if (EdgecnnRunSelfTest(&test) == 0) {
      PrintSelfTest(test);
    }
  }
  delay(5000);
}
