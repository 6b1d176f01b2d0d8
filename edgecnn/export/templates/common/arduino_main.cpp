// Arduino entry point: classify the bundled test image once, print the top label over Serial.
// The Nano 33 BLE Sense has no camera of its own; the test image lets the board check itself.
#include <Arduino.h>

#include "model_settings.h"
#ifndef EDGECNN_ENGINE_C
#include <TensorFlowLite.h>  // makes the Arduino IDE pick the Arduino_TensorFlowLite library
#endif

#include "edgecnn_classifier.h"
#include "test_image.h"

namespace {
bool ready = false;

void PrintResult(const char* what, const EdgecnnResult& result) {
  Serial.print("edgecnn: ");
  Serial.print(what);
  Serial.print(": top label ");
  Serial.print(result.label);
  Serial.print(" (");
  Serial.print(result.score_permille);
  Serial.print("/1000), expected ");
  Serial.print(kTestImageLabel);
  Serial.println(result.matches_expected ? ": PASS" : ": FAIL");
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
    EdgecnnResult result;
    if (EdgecnnClassifyTestImage(&result) == 0) {
      PrintResult("test image", result);
    }
  }
  delay(5000);
}
