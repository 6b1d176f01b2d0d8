// ESP-IDF entry point: classify the bundled test image, then (with EDGECNN_CAMERA) camera frames forever.
#include <stdio.h>

#include "edgecnn_classifier.h"
#include "freertos/FreeRTOS.h"
#include "freertos/task.h"
#include "test_image.h"

#if EDGECNN_CAMERA
int EdgecnnCameraSetup();
int EdgecnnCameraClassify(EdgecnnResult* result);
#endif

extern "C" void app_main(void) {
  if (EdgecnnSetup() != 0) {
    printf("edgecnn: setup failed\n");
    return;
  }
  EdgecnnResult result;
  if (EdgecnnClassifyTestImage(&result) == 0) {
    printf("edgecnn: test image: top label %s (%d/1000), expected %s: %s\n", result.label,
           result.score_permille, kTestImageLabel, result.matches_expected ? "PASS" : "FAIL");
  }
#if EDGECNN_CAMERA
  if (EdgecnnCameraSetup() != 0) {
    printf("edgecnn: camera setup failed\n");
    return;
  }
  while (true) {
    if (EdgecnnCameraClassify(&result) == 0) {
      printf("edgecnn: camera: top label %s (%d/1000)\n", result.label, result.score_permille);
    }
    vTaskDelay(pdMS_TO_TICKS(500));
  }
#endif
}
