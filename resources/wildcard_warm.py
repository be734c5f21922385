"""Imported only by the wildcard fork server (wildcard_worker._get_context): builds dynamicprompts'
parser once there, so every forked child starts with it instead of building it again (~0.2 s)."""

from dynamicprompts.generators import CombinatorialPromptGenerator, RandomPromptGenerator
from dynamicprompts.wildcards import WildcardManager

_wm = WildcardManager(root_map={"": [{"warm": ["a", "b"]}]})
RandomPromptGenerator(wildcard_manager=_wm, seed=0).generate(
    "{a|b} __warm__ ${v=x} %{w ...$$y}", num_images=2
)
CombinatorialPromptGenerator(wildcard_manager=_wm).generate("{2$$a|b} __warm__", max_prompts=2)
