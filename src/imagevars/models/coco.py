"""The 80 COCO object classes, in the 0-based order detectors trained on COCO use.

Reference: Lin et al. (2014), "Microsoft COCO: common objects in context", ECCV. The 80 "thing"
categories of the detection challenge, ids compacted to 0..79.
"""

COCO_LABELS = (
    "person", "bicycle", "car", "motorcycle", "airplane", "bus", "train", "truck", "boat", "traffic light",
    "fire hydrant", "stop sign", "parking meter", "bench", "bird", "cat", "dog", "horse", "sheep", "cow",
    "elephant", "bear", "zebra", "giraffe", "backpack", "umbrella", "handbag", "tie", "suitcase", "frisbee",
    "skis", "snowboard", "sports ball", "kite", "baseball bat", "baseball glove", "skateboard", "surfboard",
    "tennis racket", "bottle", "wine glass", "cup", "fork", "knife", "spoon", "bowl", "banana", "apple",
    "sandwich", "orange", "broccoli", "carrot", "hot dog", "pizza", "donut", "cake", "chair", "couch",
    "potted plant", "bed", "dining table", "toilet", "tv", "laptop", "mouse", "remote", "keyboard", "cell phone",
    "microwave", "oven", "toaster", "sink", "refrigerator", "book", "clock", "vase", "scissors", "teddy bear",
    "hair drier", "toothbrush",
)


def column_name(label: str) -> str:
    """A label as a column-name fragment: ``"traffic light"`` -> ``"traffic_light"``.

    Example:
        >>> column_name("dining table")
        'dining_table'
    """
    return label.replace(" ", "_")
