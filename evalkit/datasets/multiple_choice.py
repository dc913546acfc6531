"""One definition of a multiple-choice dataset config, from which every variant is generated.

A benchmark module calls ``mc_dataset_cfg`` once per subject, mode, shot count and split instead of
keeping near-identical config files. The prompts follow OpenCompass's standard C-Eval configs:
the question and its options as ``A. ...`` lines, then the answer cue; the in-context examples come
as HUMAN/BOT rounds before the question.
"""
from ..openicl import (AccEvaluator, FixKRetriever, GenInferencer, PPLInferencer, PromptTemplate,
                       ZeroRetriever)
from ..openicl.postprocessors import first_capital_postprocess, first_option_postprocess

MODES = ('gen', 'ppl')


def question_block(header, options, answer_cue):
    lines = [header] if header else []
    lines.append('{question}')
    lines += [f'{o}. {{{o}}}' for o in options]
    return '\n'.join(lines) + '\n' + answer_cue


def mc_dataset_cfg(abbr, dataset_type, path, name, header, mode='gen', shots=5, options='ABCD',
                   answer_cue='答案: ', train_split='dev', test_split='val', postprocess=None):
    """A dataset dict for one subject. ``mode`` 'gen': the model writes the answer, the first
    capital letter is taken (``first-option`` for zero-shot); 'ppl': the option whose full text has
    the lowest perplexity wins."""
    if mode not in MODES:
        raise ValueError(f'mode must be one of {MODES}, not {mode!r}')
    options = list(options)
    human = question_block(header, options, answer_cue)
    if mode == 'gen':
        # In gen mode the cue ends the user's turn, so it gets its line break there.
        template = dict(type=PromptTemplate, ice_token='</E>', template=dict(
            begin='</E>', round=[dict(role='HUMAN', prompt=human + '\n'),
                                 dict(role='BOT', prompt='{answer}')]))
        inferencer = dict(type=GenInferencer)
        postprocess = postprocess or (first_capital_postprocess if shots else first_option_postprocess)
        eval_cfg = dict(evaluator=dict(type=AccEvaluator), pred_postprocessor=dict(type=postprocess))
    else:
        template = dict(type=PromptTemplate, ice_token='</E>', template={
            o: dict(begin='</E>', round=[dict(role='HUMAN', prompt=human),
                                         dict(role='BOT', prompt=o)]) for o in options})
        inferencer = dict(type=PPLInferencer)
        eval_cfg = dict(evaluator=dict(type=AccEvaluator))
    retriever = (dict(type=FixKRetriever, fix_id_list=list(range(shots))) if shots
                 else dict(type=ZeroRetriever))
    return dict(
        abbr=abbr, type=dataset_type, path=path, name=name,
        reader_cfg=dict(input_columns=['question'] + options, output_column='answer',
                        train_split=train_split, test_split=test_split),
        infer_cfg=dict(ice_template=template, retriever=retriever, inferencer=inferencer),
        eval_cfg=eval_cfg,
    )
