"""Ask each photo a codebook's questions with an open vision-language model; answers as probabilities.

Needs internet once (the model downloads to the hub cache) and `pip install 'imagevars[ask]'`.
The carded models (smolvlm-256m, smolvlm-500m, qwen2.5-vl-3b) are pinned to a hub commit; any
other image-text-to-text model works as `hf:<owner>/<name>@<revision>`.

Run: python examples/ask/plot_codebook_questions.py [FOLDER] [MODEL]
"""

import os
import sys
import tempfile

import imagevars
from imagevars.tasks.ask import AskTask

folder = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(__import__("skimage.data").data.__file__)
model = sys.argv[2] if len(sys.argv) > 2 else "smolvlm-256m"
codebook = os.path.join(tempfile.mkdtemp(), "codebook.yaml")
with open(codebook, "w") as f:
    f.write("""questions:
  person:   {ask: "Is there a person in this image?", answers: [yes, no],
             wordings: ["Does the photo show a person?"]}
  setting:  {ask: "Where was this photo taken?", answers: [indoors, outdoors, studio]}
  caption:  {ask: "Describe the image in one sentence.", free: true, max_tokens: 30}
""")

table = imagevars.run([AskTask(codebook, model)], folder).to_pandas()
print(
    table[
        ["source", "ask_person_yes", "ask_person", "ask_person_wording_disagreement", "ask_setting", "ask_caption"]
    ].to_string(index=False)
)
