"""The 57 MMLU subjects: name -> (summary category, rows in the test split).

Listed in the order OpenCompass runs them. The test row counts weight the ``mmlu-weighted``
average, which equals accuracy over all test questions pooled.
"""

MMLU_SUBJECTS = {
    'college_biology': ('stem', 144),
    'college_chemistry': ('stem', 100),
    'college_computer_science': ('stem', 100),
    'college_mathematics': ('stem', 100),
    'college_physics': ('stem', 102),
    'electrical_engineering': ('stem', 145),
    'astronomy': ('stem', 152),
    'anatomy': ('stem', 135),
    'abstract_algebra': ('stem', 100),
    'machine_learning': ('stem', 112),
    'clinical_knowledge': ('other', 265),
    'global_facts': ('other', 100),
    'management': ('other', 103),
    'nutrition': ('other', 306),
    'marketing': ('other', 234),
    'professional_accounting': ('other', 282),
    'high_school_geography': ('social-science', 198),
    'international_law': ('humanities', 121),
    'moral_scenarios': ('humanities', 895),
    'computer_security': ('stem', 100),
    'high_school_microeconomics': ('social-science', 238),
    'professional_law': ('humanities', 1534),
    'medical_genetics': ('other', 100),
    'professional_psychology': ('social-science', 612),
    'jurisprudence': ('humanities', 108),
    'world_religions': ('humanities', 171),
    'philosophy': ('humanities', 311),
    'virology': ('other', 166),
    'high_school_chemistry': ('stem', 203),
    'public_relations': ('social-science', 110),
    'high_school_macroeconomics': ('social-science', 390),
    'human_sexuality': ('social-science', 131),
    'elementary_mathematics': ('stem', 378),
    'high_school_physics': ('stem', 151),
    'high_school_computer_science': ('stem', 100),
    'high_school_european_history': ('humanities', 165),
    'business_ethics': ('other', 100),
    'moral_disputes': ('humanities', 346),
    'high_school_statistics': ('stem', 216),
    'miscellaneous': ('other', 783),
    'formal_logic': ('humanities', 126),
    'high_school_government_and_politics': ('social-science', 193),
    'prehistory': ('humanities', 324),
    'security_studies': ('social-science', 245),
    'high_school_biology': ('stem', 310),
    'logical_fallacies': ('humanities', 163),
    'high_school_world_history': ('humanities', 237),
    'professional_medicine': ('other', 272),
    'high_school_mathematics': ('stem', 270),
    'college_medicine': ('other', 173),
    'high_school_us_history': ('humanities', 204),
    'sociology': ('social-science', 201),
    'econometrics': ('social-science', 114),
    'high_school_psychology': ('social-science', 545),
    'human_aging': ('other', 223),
    'us_foreign_policy': ('social-science', 100),
    'conceptual_physics': ('stem', 235),
}

MMLU_CATEGORIES = ('humanities', 'stem', 'social-science', 'other')

MMLU_SPLITS = ('dev', 'val', 'test')


def mmlu_subjects_in(category):
    """Subject names of one summary category, in table order."""
    return [name for name, (cat, _) in MMLU_SUBJECTS.items() if cat == category]
