"""edgecnn: from a Keras CNN to a verified int8 model running on edge hardware.

Importing the package stays cheap: no TensorFlow, OpenCV or matplotlib is loaded here.
"""

__version__ = "0.1.0"
