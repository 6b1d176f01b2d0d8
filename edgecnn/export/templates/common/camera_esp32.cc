// ESP32-S3 camera input (esp32-camera component), built only with -DEDGECNN_CAMERA=1.
// Pins are those of the ESP32-S3-EYE; change them for another board.
#if EDGECNN_CAMERA
#include <stdlib.h>

#include "edgecnn_classifier.h"
#include "esp_camera.h"
#include "model_settings.h"

namespace {
uint8_t* rgb_buffer = nullptr;
}

int EdgecnnCameraSetup() {
  camera_config_t config = {};
  config.pin_pwdn = -1;
  config.pin_reset = -1;
  config.pin_xclk = 15;
  config.pin_sccb_sda = 4;
  config.pin_sccb_scl = 5;
  config.pin_d7 = 16;
  config.pin_d6 = 17;
  config.pin_d5 = 18;
  config.pin_d4 = 12;
  config.pin_d3 = 10;
  config.pin_d2 = 8;
  config.pin_d1 = 9;
  config.pin_d0 = 11;
  config.pin_vsync = 6;
  config.pin_href = 7;
  config.pin_pclk = 13;
  config.xclk_freq_hz = 20000000;
  config.ledc_timer = LEDC_TIMER_0;
  config.ledc_channel = LEDC_CHANNEL_0;
  config.pixel_format = kInputChannels == 1 ? PIXFORMAT_GRAYSCALE : PIXFORMAT_RGB565;
  config.frame_size = FRAMESIZE_QQVGA;
  config.fb_count = 1;
  config.fb_location = CAMERA_FB_IN_PSRAM;
  config.grab_mode = CAMERA_GRAB_LATEST;
  if (esp_camera_init(&config) != ESP_OK) return 1;
  if (kInputChannels == 3) {
    rgb_buffer = static_cast<uint8_t*>(malloc(160 * 120 * 3));
    if (rgb_buffer == nullptr) return 1;
  }
  return 0;
}

int EdgecnnCameraClassify(EdgecnnResult* result) {
  camera_fb_t* frame = esp_camera_fb_get();
  if (frame == nullptr) return 1;
  int status;
  if (frame->format == PIXFORMAT_GRAYSCALE) {
    status = EdgecnnClassifyPixels(frame->buf, frame->width, frame->height, 1, result);
  } else {
    // RGB565 as the sensor sends it: high byte first.
    const int pixels = frame->width * frame->height;
    for (int index = 0; index < pixels && index < 160 * 120; ++index) {
      const uint16_t value = (frame->buf[2 * index] << 8) | frame->buf[2 * index + 1];
      rgb_buffer[3 * index] = ((value >> 11) & 0x1f) << 3;
      rgb_buffer[3 * index + 1] = ((value >> 5) & 0x3f) << 2;
      rgb_buffer[3 * index + 2] = (value & 0x1f) << 3;
    }
    status = EdgecnnClassifyPixels(rgb_buffer, frame->width, frame->height, 3, result);
  }
  esp_camera_fb_return(frame);
  return status;
}
#endif  // EDGECNN_CAMERA
