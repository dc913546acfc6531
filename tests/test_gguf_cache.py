"""The de-quantised GGUF cache: the second load reads a plain folder and computes the same logits."""
import torch

from evalkit.models import HuggingFacewithChatTemplate
from evalkit.models import gguf_cache


def test_second_load_uses_the_cache_with_identical_results(smollm2, tmp_path, monkeypatch):
    monkeypatch.setenv('EVALKIT_CACHE_DIR', str(tmp_path))
    first = HuggingFacewithChatTemplate(smollm2)
    folders = list((tmp_path / 'gguf').iterdir())
    assert len(folders) == 1 and gguf_cache.is_ready(folders[0])
    second = HuggingFacewithChatTemplate(smollm2)
    assert second.model.name_or_path == str(folders[0])
    messages = [{'role': 'user', 'content': '1+1=? 答案:'}]
    assert first.encode(messages) == second.encode(messages)
    ids = torch.tensor([first.encode(messages)])
    with torch.no_grad():
        assert torch.equal(first.model(ids).logits, second.model(ids).logits)
    assert first.generate([messages], 8) == second.generate([messages], 8)
    assert second.tokenizer.chat_template == first.tokenizer.chat_template
