"""One definition per prompt layout of a multiple-choice dataset config, from which every variant
is generated.

A benchmark module calls one of these once per subject, mode, shot count and split instead of
keeping near-identical config files. The layouts are those of OpenCompass's standard configs:

- ``mc_dataset_cfg``: the question and its options as ``A. ...`` lines, then the answer cue; the
  in-context examples come as HUMAN/BOT rounds before the question (C-Eval, CMMLU ppl).
- ``mc_text_dataset_cfg``: one plain text, a header, then examples and question written alike
  (MMLU ppl).
- ``mc_cot_dataset_cfg``: zero-shot, the model is asked to think step by step and end with an
  answer line that a pattern picks out (CMMLU and MMLU gen).

In gen mode the user's turn ends with a line break, as OpenCompass's chat models receive it.
"""
import re

from ..openicl import (AccEvaluator, FixKRetriever, GenInferencer, PPLInferencer, PromptTemplate,
                       ZeroRetriever)
from ..openicl.postprocessors import first_capital_postprocess, first_option_postprocess

MODES = ('gen', 'ppl')


def question_block(header, options, answer_cue, question_prefix='', question_column='question'):
    """Header, question and ``A. ...`` option lines, then the answer cue (no cue line when empty)."""
    lines = [header] if header else []
    lines.append(question_prefix + '{' + question_column + '}')
    lines += [f'{o}. {{{o}}}' for o in options]
    text = '\n'.join(lines)
    return text + '\n' + answer_cue if answer_cue else text


def mc_reader_cfg(options, question_column='question', answer_column='answer', train_split='dev',
                  test_split='val'):
    return dict(input_columns=[question_column] + list(options), output_column=answer_column,
                train_split=train_split, test_split=test_split)


def fixed_examples(shots):
    """The first ``shots`` rows of the training split as examples, or none."""
    return dict(type=FixKRetriever, fix_id_list=list(range(shots))) if shots else dict(type=ZeroRetriever)


def mc_dataset_cfg(abbr, dataset_type, path, name, header, mode='gen', shots=5, options='ABCD',
                   answer_cue='答案: ', train_split='dev', test_split='val', postprocess=None,
                   question_prefix='', answer_prefix=''):
    """A dataset dict for one subject. ``mode`` 'gen': the model writes the answer, the first
    capital letter is taken (``first-option`` for zero-shot); 'ppl': the option whose full text has
    the lowest perplexity wins. ``question_prefix`` goes before the question, ``answer_prefix``
    before the letter in the BOT turn."""
    if mode not in MODES:
        raise ValueError(f'mode must be one of {MODES}, not {mode!r}')
    options = list(options)
    human = question_block(header, options, answer_cue, question_prefix)
    if mode == 'gen':
        # In gen mode the cue ends the user's turn, so it gets its line break there.
        template = dict(type=PromptTemplate, ice_token='</E>', template=dict(
            begin='</E>', round=[dict(role='HUMAN', prompt=human + '\n'),
                                 dict(role='BOT', prompt=answer_prefix + '{answer}')]))
        inferencer = dict(type=GenInferencer)
        postprocess = postprocess or (first_capital_postprocess if shots else first_option_postprocess)
        eval_cfg = dict(evaluator=dict(type=AccEvaluator), pred_postprocessor=dict(type=postprocess))
    else:
        template = dict(type=PromptTemplate, ice_token='</E>', template={
            o: dict(begin='</E>', round=[dict(role='HUMAN', prompt=human),
                                         dict(role='BOT', prompt=answer_prefix + o)]) for o in options})
        inferencer = dict(type=PPLInferencer)
        eval_cfg = dict(evaluator=dict(type=AccEvaluator))
    return dict(
        abbr=abbr, type=dataset_type, path=path, name=name,
        reader_cfg=mc_reader_cfg(options, train_split=train_split, test_split=test_split),
        infer_cfg=dict(ice_template=template, retriever=fixed_examples(shots), inferencer=inferencer),
        eval_cfg=eval_cfg,
    )


def mc_text_dataset_cfg(abbr, dataset_type, path, name, header, shots=5, options='ABCD',
                        answer_cue='Answer: ', question_column='question', answer_column='answer',
                        train_split='dev', test_split='test'):
    """Perplexity over one plain text: ``header``, the examples (each ending in a line break),
    then the question with each option's letter after the cue."""
    options = list(options)
    block = question_block(None, options, answer_cue, question_column=question_column)
    return dict(
        abbr=abbr, type=dataset_type, path=path, name=name,
        reader_cfg=mc_reader_cfg(options, question_column, answer_column, train_split, test_split),
        infer_cfg=dict(
            ice_template=dict(type=PromptTemplate, template={o: block + o + '\n' for o in options}),
            prompt_template=dict(type=PromptTemplate, ice_token='</E>',
                                 template={o: header + '</E>' + block + o for o in options}),
            retriever=fixed_examples(shots), inferencer=dict(type=PPLInferencer)),
        eval_cfg=dict(evaluator=dict(type=AccEvaluator)),
    )


def mc_cot_dataset_cfg(abbr, dataset_type, path, name, instruction, answer_pattern, options='ABCD',
                       question_column='question', answer_column='answer', train_split='dev',
                       test_split='test'):
    """Zero-shot reasoning: the instruction, the question and ``A) ...`` option lines; the letter
    is the first match of ``answer_pattern`` (its group 1) in the answer."""
    options = list(options)
    human = '\n\n'.join([instruction, '{' + question_column + '}',
                         '\n'.join(f'{o}) {{{o}}}' for o in options)])
    return dict(
        abbr=abbr, type=dataset_type, path=path, name=name,
        reader_cfg=mc_reader_cfg(options, question_column, answer_column, train_split, test_split),
        infer_cfg=dict(
            prompt_template=dict(type=PromptTemplate,
                                 template=dict(round=[dict(role='HUMAN', prompt=human + '\n')])),
            retriever=dict(type=ZeroRetriever), inferencer=dict(type=GenInferencer)),
        eval_cfg=dict(evaluator=dict(type=AccEvaluator),
                      pred_postprocessor=dict(type=match_answer_pattern, answer_pattern=answer_pattern)),
    )


def match_answer_pattern(text, answer_pattern):
    """Group 1 of the first match of ``answer_pattern`` in the text, else ''."""
    match = re.search(answer_pattern, text)
    return match.group(1) if match else ''
