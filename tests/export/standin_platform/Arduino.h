// Test stand-in for the Arduino core: the calls edgecnn's sketch makes, declarations only.
#ifndef EDGECNN_TEST_STANDIN_ARDUINO_H_
#define EDGECNN_TEST_STANDIN_ARDUINO_H_

class SerialStandin {
 public:
  void begin(unsigned long baud);
  explicit operator bool() const;
  void print(const char* text);
  void print(int value);
  void println(const char* text);
};
extern SerialStandin Serial;
unsigned long millis();
void delay(unsigned long milliseconds);

#endif  // EDGECNN_TEST_STANDIN_ARDUINO_H_
