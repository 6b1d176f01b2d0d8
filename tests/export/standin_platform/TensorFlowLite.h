// Test stand-in for the Arduino_TensorFlowLite library's marker header (empty there too, apart from includes).
